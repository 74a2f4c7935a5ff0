"""Logging for the integration: one logger family, secrets masked, repeated warnings said once."""

from __future__ import annotations

import logging
import threading
from typing import Any, Set

from alvin_integration.redact import redact_text

ROOT_LOGGER_NAME = "alvin_integration"

_said: Set[str] = set()
_said_lock = threading.Lock()


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and exception text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = redact_text(record.getMessage())
            record.args = None
            if record.exc_info and not record.exc_text:
                record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info))
        except Exception:  # fail closed: a record we cannot mask is not written at all
            return False
        return True


_FILTER = RedactingFilter()


def get_logger(name: str = ROOT_LOGGER_NAME) -> logging.Logger:
    """Return a logger of the integration's family with the redacting filter attached."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger


def log_once(key: str, level: int, msg: str, *args: Any) -> bool:
    """Log ``msg`` the first time ``key`` is seen in this process; return whether it was logged."""
    with _said_lock:
        if key in _said:
            return False
        _said.add(key)
    get_logger().log(level, msg, *args)
    return True


def forget_said() -> None:
    """Allow every once-only message to be logged again (a new process state, or a test)."""
    with _said_lock:
        _said.clear()
