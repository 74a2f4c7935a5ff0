"""Tests that run inside a tox environment with a real Airflow installed."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.support.recording import RecordingEmitter

pytest.importorskip("airflow", reason="tests/airflow needs Airflow: run them through tox (make test)")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingEmitter]:
    """What the adapters report, kept in memory instead of spooled; the waits are recorded, not made."""
    from alvin_integration.producers.airflow import report

    emitter = RecordingEmitter()
    monkeypatch.setattr(report, "get_emitter", lambda: emitter)
    monkeypatch.setattr(report, "flush", lambda timeout: emitter.waits.append("at the try's end") or True)
    monkeypatch.setattr(report, "flush_at_exit", lambda: emitter.waits.append("at the exit"))
    yield emitter
