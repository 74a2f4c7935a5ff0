"""The scheduler's periodic reconcile (``ALVIN_RECONCILE_INTERVAL``): a round that fails never ends it."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any, List

import pytest

from alvin_integration.producers.airflow import reconcile as module


def test_rounds_go_on_after_a_failed_one_and_leave_the_last_interval_to_live_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spans: List[timedelta] = []
    settles: List[timedelta] = []
    stop = threading.Event()

    def round_(emitter: Any, host: Any, since: timedelta, settle: timedelta) -> None:
        spans.append(since)
        settles.append(settle)
        if len(spans) == 1:
            raise RuntimeError("the metadata database is away for a moment")
        if len(spans) == 3:
            stop.set()

    monkeypatch.setattr(module, "reconcile", round_)
    thread = threading.Thread(
        target=module.reconcile_periodically, args=(None, None, 0.01, stop), daemon=True
    )
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    # from three intervals ago to one interval ago: the newest tries' live events may be on their way
    assert spans == [timedelta(seconds=0.03)] * 3
    assert settles == [timedelta(seconds=0.01)] * 3
