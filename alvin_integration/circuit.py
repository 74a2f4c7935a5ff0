"""When to stop sending to a failing API, and for how long: this process's view, and the machine's."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from typing import Dict, Optional, Union

from alvin_integration.machine_lock import MachineLock
from alvin_integration.spool_dir import SpoolDir, open_regular, replace_file


class CircuitBreaker:
    """Stops the sender hammering a failing API: open after a failure, longer each time."""

    def __init__(self, base: float = 2.0, cap: float = 60.0) -> None:
        self.base = base
        self.cap = cap
        self.failures = 0
        self._open_until = 0.0
        self.opened_at = 0.0  # when it last opened (time.time(), comparable with the health file)

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

    def allow_probe(self) -> None:
        """Let one attempt through now (the machine's probe); a failure backs off further, as before."""
        self._open_until = 0.0

    def pause(self, seconds: float) -> None:
        """Open the circuit for ``seconds``."""
        self._open_until = time.monotonic() + seconds
        self.opened_at = time.time()


class SharedHealth:
    """The API's health as every process of this machine sees it: a small file in the spool.

    When one process sees the API fail, a finishing task in any other process does not wait for
    it. The file holds ``state`` (``up`` or ``down``, for people: readers derive it from the
    times), ``failures`` (failed attempts the machine's processes saw since the last success),
    ``down_until``, ``latency`` (of a recent delivery) and ``updated``. It is written atomically (a
    temporary file, then a rename); a file that is corrupt, from the future, stale or that claims
    an outage beyond ``MAX_DOWN_SECONDS`` is ignored, never trusted blindly. Nothing here raises:
    health is advice, never a reason to fail.
    """

    MAX_DOWN_SECONDS = 300.0  # what a breaker may open for (CircuitBreaker.cap)
    STALE_SECONDS = 3600.0  # a latency older than this says nothing about the API now
    LATENCY_EVERY_SECONDS = 5.0  # how often a healthy process rewrites its latency

    def __init__(self, directory: str) -> None:
        layout = SpoolDir(directory)
        self.path = layout.api_health
        self._latency_written = 0.0
        # held by the one process that tries the API after an outage
        self._probe = MachineLock(layout.probe_lock)
        self._probe_lock = threading.RLock()  # the sender and a flush of this process ask at once

    def read(self) -> Dict[str, float]:
        """The state (``down_until``, ``latency``, ``failures``, ``updated``) if trusted, else nothing."""
        try:
            fd = open_regular(self.path, os.O_RDONLY)
            try:
                raw = os.read(fd, 4096)
            finally:
                os.close(fd)
            state = json.loads(raw.decode("utf-8"))
            now = time.time()
            updated = float(state["updated"])
            if not (now - self.STALE_SECONDS <= updated <= now + 60.0):
                return {}
            down_until = float(state.get("down_until", 0.0))
            latency = float(state.get("latency", 0.0))
            if not (0.0 <= down_until - updated <= self.MAX_DOWN_SECONDS) and down_until != 0.0:
                return {}
            failures = float(state.get("failures", 0.0))
            if not (0.0 <= latency <= 600.0) or not (0.0 <= failures <= 1e9):
                return {}
            return {"down_until": down_until, "latency": latency, "failures": failures, "updated": updated}
        except Exception:  # missing, a link, not JSON, odd values: no advice
            return {}

    def down_for(self) -> float:
        """Seconds until the API may be tried again, as some process of this machine saw it."""
        return max(0.0, self.read().get("down_until", 0.0) - time.time())

    def answered_since(self, moment: float) -> bool:
        """Whether some process of this machine saw the API answer after ``moment`` (``time.time()``)."""
        state = self.read()
        return state.get("down_until", 1.0) == 0.0 and state.get("updated", 0.0) > moment

    def half_open(self) -> bool:
        """An outage was seen and its pause is over: the API may be back, nobody knows yet."""
        down_until = self.read().get("down_until", 0.0)
        return 0.0 < down_until <= time.time()

    def claim_probe(self) -> bool:
        """After an outage, one process of the machine tries the API (half-open); True for that one.

        A lock on a file in the spool: released by ``release_probe`` or when the process dies.
        """
        return self._probe.acquire()

    def release_probe(self) -> None:
        """The probe is answered (``mark_up`` or ``mark_down`` said how): let others try again."""
        self._probe.release()

    def probing_elsewhere(self) -> bool:
        """Whether another process of this machine is trying the API after an outage right now."""
        with self._probe_lock:  # our own sender's claim is never mistaken for another process's
            if self._probe.held or not self.half_open():
                return False
            if self._probe.acquire():
                self._probe.release()
                return False
            return True

    def mark_down(self, seconds: float) -> None:
        """The API failed: tell every process not to wait for it for ``seconds``."""
        now = time.time()
        known = self.read()
        self._write(
            {
                "state": "down",
                "failures": known.get("failures", 0.0) + 1,
                "down_until": now + min(max(seconds, 1.0), self.MAX_DOWN_SECONDS),
                "latency": known.get("latency", 0.0),  # the API's last known speed, for after
                "updated": now,
            }
        )

    def mark_up(self, latency: float) -> None:
        """A delivery succeeded in ``latency`` seconds (written when it changes what others know)."""
        now = time.monotonic()
        if (
            self.read().get("down_until", 0.0) == 0.0
            and now - self._latency_written < self.LATENCY_EVERY_SECONDS
        ):
            return
        self._latency_written = now
        self._write(
            {"state": "up", "failures": 0, "down_until": 0.0, "latency": latency, "updated": time.time()}
        )

    def describe(self, now: Optional[float] = None) -> str:
        """One line for people: the API's health as this machine's processes last saw it."""
        now = time.time() if now is None else now
        state = self.read()
        head = "API health (shared by this machine's processes):"
        if not state:
            return f"{head} nothing known yet"
        seen = f"written {max(0.0, now - state['updated']):.0f}s ago"
        failures = f"{state['failures']:.0f} failed attempt(s)"
        if state["down_until"] == 0.0:
            return f"{head} up, a delivery took {state['latency']:.3f}s ({seen})"
        if state["down_until"] > now:
            left = state["down_until"] - now
            return f"{head} down for {left:.0f}s more after {failures}; finishing tasks do not wait ({seen})"
        return f"{head} recovering after {failures}: one process tries it again ({seen})"

    def _write(self, state: Dict[str, Union[str, float]]) -> None:
        try:
            replace_file(self.path, json.dumps(state).encode("utf-8"))
        except OSError:
            pass
