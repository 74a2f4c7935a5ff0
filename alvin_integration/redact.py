"""Secret masking applied to everything before it reaches the spool, a request body or a log.

Three layers, each fail-closed:

- mapping keys: a key that names a secret (``SECRET_WORDS`` anywhere in it, ``SECRET_TOKENS`` as a
  whole word) has its value masked, at any depth; every key is itself masked as text, since a
  connection URI or ``password=...`` can be a key;
- text: URL passwords and tokens (``scheme://TOKEN@host``, a user with no password, as git and
  registry URLs carry them), ``name=value`` assignments whose name holds a secret word (environment
  style ``PGPASSWORD=...`` included), SQL ``PASSWORD '...'`` / ``IDENTIFIED BY ...``, bearer
  tokens and PEM private key blocks, also with their newlines escaped (``\\n``, as in JSON). A
  quoted secret cut off before its closing quote (a truncated statement or log line) is masked to
  the end of its line;
- registered values (the API key, connection passwords) in every form they may take in output:
  as given, stripped, escaped by ``repr`` or JSON, URL-quoted.

Every pattern runs in linear time: no nested or overlapping unbounded quantifiers, and each part
of a pattern scans a bounded number of characters. Text is redacted whole before anything is
truncated (``redacted_head``/``redacted_tail``), so no secret survives half cut.
"""

from __future__ import annotations

import json
import re
import threading
from bisect import bisect_left
from functools import lru_cache
from itertools import islice
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple
from urllib.parse import quote, quote_plus

MASK = "***"
# Values shorter than this are too likely to occur by chance to be replaced wherever they appear.
MIN_SECRET_LENGTH = 6

# The one list of secret names: keys and text assignments are matched against it, and the tests
# are generated from it. WORDS match anywhere in a name (``PGPASSWORD``, ``db_password_2``,
# ``passwords``); TOKENS only as a whole word of it (``db_pass``, not ``passenger``).
SECRET_WORDS: Tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "api_key",
    "privatekey",
    "private_key",
    "accesskey",
    "access_key",
    "authorization",
    "authorisation",
    "credential",
    "cookie",
    "sessionkey",
    "session_key",
    "sessionid",
    "keyfile",
    "key_json",
    "keyjson",
    "signature",
)
SECRET_TOKENS: Tuple[str, ...] = ("pass", "pwd", "pw", "sig", "auth")
# query parameters that carry a secret (``?key=...``, ``&pass=...``)
SECRET_PARAMETERS: Tuple[str, ...] = ("key", "pass", "pw", "pwd", "sig", "auth", "code")

_NAME_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_COMPACT_WORDS = tuple(sorted({w.replace("_", "") for w in SECRET_WORDS}))


def _alternation(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, as a trie (one branch tried per first letter); a "_" in a
    word also matches "-" or nothing (api_key, api-key, apikey)."""
    trie: Dict[str, Any] = {}
    for word in set(words):
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # the end of a word

    def pattern(node: Dict[str, Any]) -> str:
        branches = [
            ("[_\\-]?" if char == "_" else re.escape(char)) + pattern(child)
            for char, child in sorted(node.items())
            if char
        ]
        if "" in node:
            branches.append("")
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return pattern(trie)


_WORDS = _alternation(SECRET_WORDS)
_TOKENS = _alternation(SECRET_TOKENS)
_PARAMETERS = _alternation(SECRET_PARAMETERS)
# a quoted value is masked to its closing quote, or to the end of its line if it was cut off
# ... and inside JSON (or repr) text that is itself a string, its quotes escaped: {\"password\": \"...
_VALUE = r"(\\{1,3}[\"'][^\"'\n\\]{0,4096}|\"[^\"\n]{0,4096}\"?|'[^'\n]{0,4096}'?|[^\s&;,\"'}\]]{1,4096})"
_SEPARATOR = r"\\{0,3}[\"']?[ \t]{0,4}[=:][ \t]{0,4}"
_NAME_TAIL = r"[a-z0-9_\-]{0,16}"
# what a PEM block holds: base64, header lines (Proc-Type: 4,ENCRYPTED), line breaks, and the
# backslash of a line break escaped in JSON or repr text (\n, \\n, \r\n)
_PEM_BODY = r"[a-z0-9+/=\s:,\-\\]"

# Text patterns, each with one group: the secret. They run on a lower-case ASCII shadow of the
# text (same length, so spans carry over), case-sensitively and one at a time: each starts with
# a literal or a set, which lets the regex engine skip to candidate positions. Combined, or with
# a look-behind or a word boundary first, they scanned every position (ten times slower).
_TEXT_PATTERNS: Tuple[str, ...] = (
    # PEM private keys: the whole block, or to the end of the text if it has no END line
    r"-----begin [a-z0-9 ]{0,40}private key-----"
    r"((?:" + _PEM_BODY + r"{0,65536}?-----end [a-z0-9 ]{0,40}private key-----)|" + _PEM_BODY + r"{0,65536})",
    # name=SECRET, "api_key": "SECRET", PGPASSWORD=SECRET, GITHUB_TOKEN=SECRET ...
    r"(?:" + _WORDS + r")" + _NAME_TAIL + _SEPARATOR + _VALUE,
    # query parameters: ?key=SECRET, &pass=SECRET
    r"[?&;](?:" + _PARAMETERS + r")=([^\s&#;\"']{1,4096})",
    # SQL: PASSWORD 'SECRET', IDENTIFIED BY "SECRET", IDENTIFIED BY SECRET. A quote never closed
    # (the statement cut off) is masked to the end of the line; after PASSWORD only if a space or
    # "=" comes first, so that a quoted word (column "password" does not exist) keeps its line.
    r"password[ \t]{0,4}=?[ \t]{0,4}"
    r"('[^'\n]{0,4096}'|\"[^\"\n]{0,4096}\"|'(?<=[ \t=]')[^'\n]{0,4096}|\"(?<=[ \t=]\")[^\"\n]{0,4096})",
    r"identified\s{1,8}by\s{1,8}('[^'\n]{0,4096}'?|\"[^\"\n]{0,4096}\"?|[^\s;,)]{1,4096})",
    # Authorization: Bearer SECRET
    r"(?:bearer|basic|token)[ \t]{1,8}([^\s\"',;]{8,4096})",
)
_TEXT_PATTERNS += (
    # db_pass=SECRET, MYSQL_PWD=SECRET: a short name counts only as a whole word (not "bypass=")
    r"(?<![a-z0-9])(?:" + _TOKENS + r")(?![a-z0-9])" + _NAME_TAIL + _SEPARATOR + _VALUE,
)
_COMPILED = tuple(re.compile(pattern) for pattern in _TEXT_PATTERNS)
# A text with more secrets than this is masked whole (fail closed; no real text has that many),
# which also bounds the work per text.
MAX_SECRETS_PER_TEXT = 10_000
# Every pattern needs one of these: text without them (names, ids, most values) is left as it is.
_SUSPECT = re.compile(r"[?&;=:'\"@]|-----|identified|bearer|basic|token")
_CACHE_SIZE = 4096  # events repeat most strings (namespaces, names, facet URLs)


@lru_cache(maxsize=_CACHE_SIZE)
def is_sensitive_key(name: str) -> bool:
    """Whether a mapping key names a secret (password, token, api_key, DB_PASSWORD, ...)."""
    lowered = _CAMEL.sub(r"\1_\2", name).lower()
    compact = _NAME_SPLIT.sub("", lowered)
    if any(word in compact for word in _COMPACT_WORDS):
        return True
    return any(token in SECRET_TOKENS for token in _NAME_SPLIT.split(lowered))


def secret_forms(value: str) -> List[str]:
    """The forms a secret may take in output: as given, stripped, repr/JSON-escaped, URL-quoted."""
    forms: Set[str] = set()
    for base in {value, value.strip()}:
        forms.update((base, repr(base)[1:-1], json.dumps(base)[1:-1], quote(base, safe=""), quote_plus(base)))
    return [form for form in forms if len(form) >= MIN_SECRET_LENGTH]


# scheme://user:SECRET@host: found from the literal "://", then masked to the token's last "@"
# (a password may hold "/" or "@"), found by bisection, so that no site is scanned twice.
_URL_USER = re.compile(r"://[^:/@\s]{0,256}:")
_WHITESPACE = re.compile(r"\s")
_URL_SECRET_MAX = 512


def _url_password_spans(text: str) -> Optional[List[Tuple[int, int]]]:
    if "@" not in text or "://" not in text:
        return []
    if text.count("://") > MAX_SECRETS_PER_TEXT:
        return None
    ats = [m.start() for m in re.finditer("@", text)]
    spaces = [m.start() for m in _WHITESPACE.finditer(text)]
    spans = []
    for head in _URL_USER.finditer(text):
        start = head.end()
        next_space = bisect_left(spaces, start)
        limit = min(spaces[next_space] if next_space < len(spaces) else len(text), start + _URL_SECRET_MAX)
        last_at = bisect_left(ats, limit) - 1
        if last_at >= 0 and ats[last_at] > start:
            spans.append((start, ats[last_at]))
    return spans


# scheme://TOKEN@host: a user with no password is a token (git, package registries), masked whole
# up to the last "@" of the authority. The authority ends at "/", "?", "#" or white space, and at
# what ends a string in JSON, repr or SQL (a quote, a backslash) or a URL in prose ("<", ">"), so
# that a scan stops at its own URL: an e-mail address further on is not taken for its user.
_URL_USERINFO = re.compile(rf"://([^\s/?#\"'<>\\]{{1,{_URL_SECRET_MAX}}})@")
_URL_HEAD = re.compile("://")


def _url_user_spans(text: str) -> List[Tuple[int, int]]:
    if "@" not in text:
        return []
    spans = []
    for head in islice(_URL_HEAD.finditer(text), MAX_SECRETS_PER_TEXT + 1):
        # the regex only where an "@" is in reach: most URLs have none, and a scan to the end of
        # the authority and back costs twice its length
        if text.find("@", head.end(), head.end() + _URL_SECRET_MAX + 1) < 0:
            continue
        match = _URL_USERINFO.match(text, head.start())
        if match is None:
            continue
        start, end = match.span(1)
        colon = text.find(":", start, end)
        if colon >= 0 and text.find("@", start, colon) < 0:
            spans.append((colon + 1, end))  # user:PASSWORD, the user kept (as above)
        else:
            spans.append((start, end))
    return spans


def _secret_spans(shadow: str) -> Optional[List[Tuple[int, int]]]:
    """Where the secrets are in a lower-case ASCII shadow of a text; None if too many to list."""
    spans = _url_password_spans(shadow)
    if spans is None:
        return None
    spans += _url_user_spans(shadow)
    for pattern in _COMPILED:
        spans += [match.span(1) for match in islice(pattern.finditer(shadow), MAX_SECRETS_PER_TEXT + 1)]
        if len(spans) > MAX_SECRETS_PER_TEXT:
            return None
    return spans


def _masked(value: str, spans: List[Tuple[int, int]]) -> str:
    """``value`` with every span (overlapping ones merged) replaced by the mask."""
    out: List[str] = []
    cursor = 0
    for start, end in sorted(spans):
        if end <= cursor or end <= start:
            continue
        if start >= cursor:
            out += (value[cursor:start], MASK)
        cursor = end  # a span overlapping the last one extends its mask
    return "".join(out) + value[cursor:]


class Redactor:
    """Masks sensitive keys at any depth, secrets inside text, and every registered secret value."""

    def __init__(self) -> None:
        self._secrets: Tuple[str, ...] = ()
        self._lock = threading.Lock()
        self.text = lru_cache(maxsize=_CACHE_SIZE)(self._text)  # type: ignore[method-assign]

    def register(self, *values: Optional[str]) -> None:
        """Treat each value, in every form it may take in output, as a secret from now on."""
        fresh = {form for v in values if isinstance(v, str) for form in secret_forms(v)}
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
        shadow = value.encode("ascii", "replace").decode("ascii").lower()  # same length as value
        if not _SUSPECT.search(shadow):
            return value
        spans = _secret_spans(shadow)
        return MASK if spans is None else _masked(value, spans)

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
                raw = key if isinstance(key, str) else str(key)
                name = self.text(raw)
                if item not in (None, "", [], {}) and (is_sensitive_key(raw) or name != raw):
                    masked[name] = MASK  # a key that names or holds a secret: its value is one too
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


def redacted_head(value: str, limit: int, marker: str) -> str:
    """The first ``limit`` characters of the redacted text, ``marker`` appended if it was cut."""
    masked = redact_text(value)
    return masked if len(masked) <= limit else masked[:limit] + marker


def redacted_tail(value: str, limit: int, marker: str) -> str:
    """The last ``limit`` characters of the redacted text, ``marker`` put first if it was cut."""
    masked = redact_text(value)
    return masked if len(masked) <= limit else marker + masked[-limit:]
