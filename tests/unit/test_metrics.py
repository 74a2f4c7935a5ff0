"""Health metrics: counts published as differences, to whatever sink the producer hands in."""

from __future__ import annotations

import logging
from typing import Any, List, Optional, Tuple

import pytest

from alvin_integration import metrics
from alvin_integration.logs import forget_said
from alvin_integration.metrics import Counts, HealthMetrics


class Sink:
    """Records calls as Airflow's Stats takes them."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, str, float]] = []

    def incr(self, stat: str, count: int = 1, rate: float = 1) -> None:
        self.calls.append(("incr", stat, count))

    def gauge(self, stat: str, value: float, rate: float = 1) -> None:
        self.calls.append(("gauge", stat, value))

    def timing(self, stat: str, dt: float) -> None:
        self.calls.append(("timing", stat, dt))


def test_counters_carry_what_changed_since_the_last_publish() -> None:
    sink, counts = Sink(), Counts()
    health = HealthMetrics(sink)
    counts.spooled, counts.delivered, counts.waiting = 5, 3, 2
    counts.delivery_took(0.02)
    health.publish(counts)
    counts.spooled, counts.delivered, counts.rejected, counts.waiting, counts.api_up = 6, 6, 0, 0, False
    health.publish(counts)
    incr = [(stat, n) for kind, stat, n in sink.calls if kind == "incr"]
    assert incr == [
        (metrics.SPOOLED, 5),
        (metrics.DELIVERED, 3),
        (metrics.SPOOLED, 1),
        (metrics.DELIVERED, 3),
    ]
    gauges = [(stat, v) for kind, stat, v in sink.calls if kind == "gauge"]
    assert gauges == [
        (metrics.WAITING, 2.0),
        (metrics.API_UP, 1.0),
        (metrics.WAITING, 0.0),
        (metrics.API_UP, 0.0),
    ]
    assert [(s, round(v)) for k, s, v in sink.calls if k == "timing"] == [(metrics.LATENCY, 20)]


def test_the_sink_is_asked_for_once_on_the_first_publish(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: List[int] = []
    sink = Sink()

    def factory() -> Optional[Any]:
        asked.append(1)
        return sink

    metrics.use_sink(factory)
    try:
        health = HealthMetrics()
        assert asked == []  # nothing asked of the host before the sender publishes
        health.publish(Counts(spooled=1))
        health.publish(Counts(spooled=2))
    finally:
        metrics.use_sink(None)
    assert asked == [1] and [c[1:] for c in sink.calls if c[0] == "incr"] == [
        (metrics.SPOOLED, 1),
        (metrics.SPOOLED, 1),
    ]


def test_no_sink_means_nothing_is_published() -> None:
    HealthMetrics().publish(Counts(spooled=3))  # metrics off: no factory, no error


def test_a_failing_sink_is_given_up_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Sink):
        def incr(self, stat: str, count: int = 1, rate: float = 1) -> None:
            raise OSError("statsd host unreachable")

    forget_said()
    broken = Broken()
    health = HealthMetrics(broken)
    with caplog.at_level(logging.WARNING, logger="alvin_integration"):
        health.publish(Counts(spooled=1))
        health.publish(Counts(spooled=2))
    said = [r.getMessage() for r in caplog.records if "publishing metrics failed" in r.getMessage()]
    assert len(said) == 1 and "metrics are off in this process" in said[0]


def test_a_bounded_dictionary_forgets_its_oldest_entries() -> None:
    from alvin_integration.bounded import put_bounded

    cache: dict = {}
    for key in range(5):
        put_bounded(cache, key, str(key), 3)
    assert list(cache) == [2, 3, 4]


def test_datasets_merge_by_namespace_and_name_in_order() -> None:
    from alvin_integration.model import Dataset, merge_datasets

    found = [Dataset("s3://a", "x")]
    merged = merge_datasets(found, [Dataset("s3://a", "x"), Dataset("s3://b", "y"), Dataset("s3://b", "y")])
    assert merged is found and [(d.namespace, d.name) for d in merged] == [("s3://a", "x"), ("s3://b", "y")]
