"""Secret masking applied to everything before it reaches the spool, a request body or a log."""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Tuple

MASK = "***"
# Values shorter than this are too likely to occur by chance to be replaced wherever they appear.
MIN_SECRET_LENGTH = 6

SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?$|^pwd$|secret|token|api[_\-]?key|private[_\-]?key|authori[sz]ation"
    r"|credential|access[_\-]?key|cookie|session[_\-]?key|keyfile|key[_\-]?json|signature$",
    re.IGNORECASE,
)
# Each pattern is (head kept)(secret masked). They run as one combined regex, in one pass.
_TEXT_PATTERNS = (
    # scheme://user:SECRET@host
    r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@/\s]+)(?=@)",
    # password=SECRET, "api_key": "SECRET", token: SECRET ...
    r"(?P<head>\b(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token"
    r"|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|sig|signature)\b[\"']?\s*[=:]\s*"
    r"[\"']?)(?P<secret>[^\s&;,\"'}]+)",
    # SQL: PASSWORD 'SECRET', IDENTIFIED BY "SECRET"
    r"(?P<head>\b(?:password|identified\s+by)\s*=?\s*)(?P<secret>'[^']*'|\"[^\"]*\")",
    # Authorization: Bearer SECRET
    r"(?P<head>\b(?:bearer|basic|token)\s+)(?P<secret>[a-z0-9\-._~+/]{8,}=*)",
)
_COMBINED = re.compile(
    "|".join(
        pattern.replace("?P<head>", f"?P<h{i}>").replace("?P<secret>", f"?P<s{i}>")
        for i, pattern in enumerate(_TEXT_PATTERNS)
    ),
    re.IGNORECASE,
)
# Every pattern above needs an "@" or one of these words: text without them (timestamps, ids,
# most URLs) skips the combined regex.
_SUSPECT = re.compile(r"@|pass|pwd|secret|token|key|sig|bearer|basic|identified", re.IGNORECASE)
_CACHE_SIZE = 4096  # events repeat most strings (namespaces, names, facet URLs)


@lru_cache(maxsize=_CACHE_SIZE)
def is_sensitive_key(name: str) -> bool:
    """Whether a mapping key names a secret (password, token, api_key, ...)."""
    return SENSITIVE_KEY.search(name) is not None


def _mask_match(match: re.Match[str]) -> str:
    index = (match.lastgroup or "s0")[1:]
    return (match.group(f"h{index}") or "") + MASK


class Redactor:
    """Masks sensitive keys at any depth, secrets inside text, and every registered secret value."""

    def __init__(self) -> None:
        self._secrets: Tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.text = lru_cache(maxsize=_CACHE_SIZE)(self._text)  # type: ignore[method-assign]

    def register(self, *values: Optional[str]) -> None:
        """Treat each value as a secret wherever it appears from now on."""
        fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
        if fresh - set(self._secrets):
            with self._lock:
                self._secrets = tuple(sorted(set(self._secrets) | fresh, key=len, reverse=True))
                self.text.cache_clear()  # type: ignore[attr-defined]

    def text(self, value: str) -> str:
        """Return ``value`` with registered secrets and secret-looking fragments masked."""
        return self._text(value)  # replaced by a cached version in __init__

    def _text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if _SUSPECT.search(value):
            value = _COMBINED.sub(_mask_match, value)
        return value

    def value(self, value: Any) -> Any:
        """Return a masked copy of a JSON-like value; a part that cannot be masked is dropped."""
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, dict):
            return self._mapping(value)
        if isinstance(value, (list, tuple, set, frozenset)):
            return self._sequence(value)
        return self.text(str(value))

    def _mapping(self, mapping: Dict[Any, Any]) -> Dict[str, Any]:
        masked: Dict[str, Any] = {}
        for key, item in mapping.items():
            try:
                name = key if isinstance(key, str) else self.text(str(key))
                if item not in (None, "", [], {}) and is_sensitive_key(name):
                    masked[name] = MASK
                else:
                    masked[name] = self.value(item)
            except Exception:  # fail closed: a field we cannot mask is left out
                continue
        return masked

    def _sequence(self, items: Iterable[Any]) -> List[Any]:
        masked: List[Any] = []
        for item in items:
            try:
                masked.append(self.value(item))
            except Exception:  # fail closed
                continue
        return masked


REDACTOR = Redactor()


def register_secret(*values: Optional[str]) -> None:
    """Register values (API key, passwords) that must never appear in output."""
    REDACTOR.register(*values)


def redact(value: Any) -> Any:
    """Return a masked copy of a JSON-like value using the process-wide redactor."""
    return REDACTOR.value(value)


def redact_text(value: str) -> str:
    """Return text with secrets masked using the process-wide redactor."""
    return REDACTOR.text(value)
