"""Reading a host object defensively: an attribute of a user's operator may be absent or raise."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional

MAX_TEXT = 2_000


def read_attr(obj: Any, *names: str) -> Any:
    """The first of ``names`` that ``obj`` has and is not None; None if none (a raising property too)."""
    for name in names:
        try:
            value = getattr(obj, name, None)
        except Exception:  # a property of a user's operator may raise
            value = None
        if value is not None:
            return value
    return None


def short_text(value: Any, limit: int = MAX_TEXT) -> Optional[str]:
    """``value`` as text of at most ``limit`` characters (cut with ``...``); None stays None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def state_name(value: Any) -> Optional[str]:
    """A state of any version (enum or text) as lowercase text: ``success``, ``up_for_retry``."""
    if value is None:
        return None
    return str(getattr(value, "value", value)).lower()


def connection_extras(conn: Any) -> Dict[str, Any]:
    """A connection's extras as a dict (``extra_dejson``, else its ``extra`` JSON); empty if unreadable."""
    extras = read_attr(conn, "extra_dejson")
    if isinstance(extras, dict):
        return extras
    try:
        loaded = json.loads(read_attr(conn, "extra") or "{}")
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def connection_extra(extras: Dict[str, Any], *names: str) -> Optional[str]:
    """The first of ``names`` among a connection's extras, stored plain or prefixed
    (``extra__snowflake__account``, as providers have stored them)."""
    for name in names:
        for key, value in extras.items():
            if (key == name or key.endswith("__" + name)) and value not in (None, ""):
                return str(value)
    return None
