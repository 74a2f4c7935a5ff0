"""Secret masking applied to everything before it reaches the spool, a request body or a log."""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, FrozenSet, Iterable, List, Optional

MASK = "***"
# Values shorter than this are too likely to occur by chance to be replaced wherever they appear.
MIN_SECRET_LENGTH = 6

SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?$|^pwd$|secret|token|api[_\-]?key|private[_\-]?key|authori[sz]ation"
    r"|credential|access[_\-]?key|cookie|session[_\-]?key|keyfile|key[_\-]?json|signature$",
    re.IGNORECASE,
)
_URL_USERINFO = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@/\s]+)@")
_KEY_VALUE = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token"
    r"|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|sig|signature)\b[\"']?\s*[=:]\s*"
    r"[\"']?)(?P<secret>[^\s&;,\"'}]+)",
    re.IGNORECASE,
)
_SQL_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|identified\s+by)\s*=?\s*)(?P<secret>'[^']*'|\"[^\"]*\")",
    re.IGNORECASE,
)
_BEARER = re.compile(
    r"(?P<head>\b(?:bearer|basic|token)\s+)(?P<secret>[A-Za-z0-9\-._~+/]{8,}=*)", re.IGNORECASE
)
_PATTERNS = (_URL_USERINFO, _KEY_VALUE, _SQL_PASSWORD, _BEARER)


class Redactor:
    """Masks sensitive keys at any depth, secrets inside text, and every registered secret value."""

    def __init__(self) -> None:
        self._secrets: FrozenSet[str] = frozenset()
        self._lock = threading.Lock()

    def register(self, *values: Optional[str]) -> None:
        """Treat each value as a secret wherever it appears from now on."""
        fresh = {v for v in values if isinstance(v, str) and len(v) >= MIN_SECRET_LENGTH}
        if fresh:
            with self._lock:
                self._secrets = self._secrets | fresh

    def text(self, value: str) -> str:
        """Return ``value`` with registered secrets and secret-looking fragments masked."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        for pattern in _PATTERNS:
            value = pattern.sub(lambda m: m.group("head") + MASK, value)
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
                name = self.text(str(key))
                if SENSITIVE_KEY.search(name) and item not in (None, "", [], {}):
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
