"""One decorator for everything we run inside the host: our failure never becomes the host's.

How much a failure says (a stack trace when ALVIN_VERBOSE_LOG is on) is set by whoever reads the
settings (``report_verbosely``, from the emitter's front): reporting a failure reads nothing.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, TypeVar, cast

from alvin_integration.logs import get_logger, log_once

F = TypeVar("F", bound=Callable[..., Any])
log = get_logger(__name__)
_verbose = False  # ALVIN_VERBOSE_LOG, as the settings this process loaded say


def never_raise(what: str, default: Any = None) -> Callable[[F], F]:
    """Wrap a host callback: any exception is logged once (no stack trace) and ``default`` returned."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return call_guarded(what, func, *args, default=default, **kwargs)

        return cast(F, guarded)

    return decorate


def call_guarded(what: str, func: Callable[..., Any], *args: Any, default: Any = None, **kwargs: Any) -> Any:
    """Call ``func``; any exception is logged once (no stack trace) and ``default`` returned.

    For host callbacks whose signature the host inspects (pluggy before 1.1 reads a decorated
    function's own ``*args``, not the wrapped one's names): write the signature, call this inside.
    """
    try:
        return func(*args, **kwargs)
    except Exception as exc:
        _report(what, exc)
        return default


def report_verbosely(on: bool) -> None:
    """Whether a guarded failure logs its stack trace (ALVIN_VERBOSE_LOG of the loaded settings)."""
    global _verbose
    _verbose = on


def _report(what: str, exc: BaseException) -> None:
    verbose = _verbose
    said = log_once(
        f"guard:{what}:{type(exc).__name__}",
        logging.WARNING,
        "alvin-integration: %s failed (%s: %s); this has no impact on the task or DAG run",
        what,
        type(exc).__name__,
        exc,
    )
    if verbose and not said:
        log.warning("alvin-integration: %s failed again (%s)", what, exc, exc_info=exc)
    elif verbose:
        log.debug("details", exc_info=exc)
