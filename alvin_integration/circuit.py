"""When to stop sending to a failing API, and for how long (one process's view; see the sender)."""

from __future__ import annotations

import random
import time


class CircuitBreaker:
    """Stops the sender hammering a failing API: open after a failure, longer each time."""

    def __init__(self, base: float = 2.0, cap: float = 300.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._open_until = 0.0

    def is_open(self) -> bool:
        """Whether sending should wait."""
        return time.monotonic() < self._open_until

    def seconds_left(self) -> float:
        """How long until the next attempt is allowed."""
        return max(0.0, self._open_until - time.monotonic())

    def success(self) -> None:
        """Close the circuit."""
        self.failures = 0
        self._open_until = 0.0

    def failure(self, at_least: float = 0.0) -> None:
        """Open the circuit for the next backoff step (or ``at_least``, e.g. a Retry-After)."""
        step = min(self.cap, self.base * (2 ** min(self.failures, 32)))
        self.failures += 1
        self.pause(max(at_least, random.uniform(step / 2, step)))

    def pause(self, seconds: float) -> None:
        """Open the circuit for ``seconds``."""
        self._open_until = time.monotonic() + seconds
