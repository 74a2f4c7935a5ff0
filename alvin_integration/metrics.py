"""Our health as metrics: what a platform team alerts on when lineage stops flowing.

The core counts; a producer hands in where counts go (``MetricsSink``: Airflow's ``Stats``, so
StatsD, Datadog or OpenTelemetry as the user configured ``[metrics]``). Nothing here knows
Airflow. The names (documented in the README's troubleshooting section):

- ``alvin.events.spooled``, ``alvin.events.delivered``, ``alvin.events.rejected`` (the API refused
  them for good: dead letters), ``alvin.events.dropped`` (the spool's cap): counters;
- ``alvin.spool.waiting`` (events this process holds undelivered) and ``alvin.api.up`` (1 up, 0 down):
  gauges;
- ``alvin.delivery.latency``: a timer, milliseconds per delivery.

A task's path only counts (``Counts.spooled += 1``); the sender thread publishes the differences
since its last publish (``HealthMetrics.publish``), and a sink that fails is given up for the
process, logged once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from typing_extensions import Protocol

from alvin_integration.logs import log_once

SPOOLED = "alvin.events.spooled"
DELIVERED = "alvin.events.delivered"
REJECTED = "alvin.events.rejected"
DROPPED = "alvin.events.dropped"
WAITING = "alvin.spool.waiting"
API_UP = "alvin.api.up"
LATENCY = "alvin.delivery.latency"
NAMES = (SPOOLED, DELIVERED, REJECTED, DROPPED, WAITING, API_UP, LATENCY)


class MetricsSink(Protocol):
    """Where metrics go: Airflow's ``Stats`` has these three methods on every version."""

    def incr(self, stat: str, count: int = 1, rate: float = 1) -> None: ...

    def gauge(self, stat: str, value: float, rate: float = 1) -> None: ...

    def timing(self, stat: str, dt: float) -> None: ...


@dataclass
class Counts:
    """What one process did so far; the sender publishes the differences."""

    spooled: int = 0
    delivered: int = 0
    rejected: int = 0
    dropped: int = 0
    waiting: int = 0
    api_up: bool = True
    latencies: List[float] = field(default_factory=list)  # seconds, since the last publish
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def delivery_took(self, seconds: float) -> None:
        """Record one delivery's latency (the sender thread)."""
        with self.lock:
            if len(self.latencies) < 1_000:
                self.latencies.append(seconds)


SinkFactory = Callable[[], Optional[MetricsSink]]
_factory: Optional[SinkFactory] = None


def use_sink(factory: Optional[SinkFactory]) -> None:
    """Where this process's metrics go: called by the producer (the Airflow plugin) with a function
    the sender thread calls once, on its first publish, to get the sink (None: metrics are off)."""
    global _factory
    _factory = factory


class HealthMetrics:
    """Publishes a process's ``Counts`` to a sink as counters, gauges and timings."""

    def __init__(self, sink: Optional[MetricsSink] = None) -> None:
        self._sink = sink
        self._resolved = sink is not None
        self._published = Counts()
        self._lock = threading.Lock()  # the sender, its delivery threads and a flush may publish at once

    def _resolve(self) -> Optional[MetricsSink]:
        if not self._resolved:
            self._resolved = True
            self._sink = _factory() if _factory is not None else None
        return self._sink

    def publish(self, counts: Counts) -> None:
        """Send what changed since the last publish; never raises (a failing sink is dropped)."""
        with self._lock:
            self._publish(counts)

    def _publish(self, counts: Counts) -> None:
        try:
            sink = self._resolve()
            if sink is None:
                return
            with counts.lock:
                latencies, counts.latencies = counts.latencies, []
                now = Counts(counts.spooled, counts.delivered, counts.rejected, counts.dropped)
                now.waiting, now.api_up = counts.waiting, counts.api_up
            for name, value, before in (
                (SPOOLED, now.spooled, self._published.spooled),
                (DELIVERED, now.delivered, self._published.delivered),
                (REJECTED, now.rejected, self._published.rejected),
                (DROPPED, now.dropped, self._published.dropped),
            ):
                if value > before:
                    sink.incr(name, value - before)
            sink.gauge(WAITING, float(now.waiting))
            sink.gauge(API_UP, 1.0 if now.api_up else 0.0)
            for seconds in latencies:
                sink.timing(LATENCY, seconds * 1000.0)
            self._published = now
        except Exception as exc:  # a metrics backend's trouble is never ours to repeat
            self._sink = None
            log_once(
                "metrics-sink",
                logging.WARNING,
                "alvin-integration: publishing metrics failed (%s: %s); metrics are off in this process",
                type(exc).__name__,
                exc,
            )
