"""Wrapping a host function: the original's result and exception stay the caller's; our step never raises."""

from __future__ import annotations

from typing import Any, List

import pytest

from alvin_integration.producers.airflow.wrap import wrap_after


class Host:
    """A host class with one method that returns and one that raises."""

    def ok(self, value: int) -> int:
        """Double the value."""
        return value * 2

    def broken(self, value: int) -> int:
        """Refuse the value."""
        raise ValueError(f"refused {value}")


def test_the_step_sees_the_result_and_the_arguments_and_breaks_nothing() -> None:
    seen: List[Any] = []

    def step(result: Any, *args: Any) -> None:
        seen.append((result, args[1:]))
        raise RuntimeError("our bug")

    class Wrapped(Host):
        pass

    assert wrap_after(Wrapped, "ok", "a test step", step)
    assert not wrap_after(Wrapped, "ok", "a test step", step)  # installed once
    assert Wrapped().ok(4) == 8
    assert seen == [(8, (4,))]


def test_on_error_the_step_runs_after_a_raise_and_the_exception_is_the_callers() -> None:
    seen: List[Any] = []
    host = Host()
    wrap_after(host, "broken", "a test step", lambda result, *a: seen.append(result), on_error=True)
    with pytest.raises(ValueError, match="refused 3"):
        host.broken(3)
    assert seen == [None]


def test_without_on_error_a_raise_skips_the_step() -> None:
    seen: List[Any] = []
    host = Host()
    wrap_after(host, "broken", "a test step", lambda result, *a: seen.append(result))
    with pytest.raises(ValueError):
        host.broken(3)
    assert seen == []
