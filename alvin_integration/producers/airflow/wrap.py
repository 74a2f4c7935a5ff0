"""Wrapping a host function where Airflow offers no hook: the original runs unchanged, then ours.

Installed once (idempotent), only by the adapter written for that version; our step is guarded.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from alvin_integration.guard import never_raise

_MARK = "__alvin_wrapped__"


def wrap_after(owner: Any, name: str, what: str, after: Callable[..., None], on_error: bool = False) -> bool:
    """Make ``owner.name`` call ``after(result, *args, **kwargs)`` once the original returned.

    ``on_error``: also once it raised (``result`` is then None). The original's result or exception
    is the caller's, untouched. Returns False if already wrapped.
    """
    original = getattr(owner, name)
    if getattr(original, _MARK, False):
        return False
    step = never_raise(what)(after)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = original(*args, **kwargs)
        except BaseException:
            if on_error:
                step(None, *args, **kwargs)
            raise
        step(result, *args, **kwargs)
        return result

    setattr(wrapper, _MARK, True)
    setattr(owner, name, wrapper)
    return True
