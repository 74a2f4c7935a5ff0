"""Emitters for tests: fast retries and a fast breaker, on a spool directory of the test's own."""

from __future__ import annotations

from alvin_integration.circuit import CircuitBreaker
from alvin_integration.client import AlvinClient, RetryPolicy
from alvin_integration.emitter import Emitter
from tests.support.events import settings_for

FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=1.0, window=0.5)


def make_emitter(url: str, spool_dir: str, **extra: str) -> Emitter:
    """An emitter on a spool directory with fast retries and a fast breaker."""
    settings = settings_for(url, spool_dir, **extra)
    return Emitter(
        settings,
        client=AlvinClient(settings, FAST),
        breaker=CircuitBreaker(base=0.05, cap=0.2),
        poll_seconds=0.1,
    )
