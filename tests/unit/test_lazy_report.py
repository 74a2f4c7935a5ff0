"""The adapters' lazy report path names events as the model does."""

from __future__ import annotations

from alvin_integration import model
from alvin_integration.producers.airflow.adapters import lazy_report


def test_the_event_names_are_the_models() -> None:
    assert (lazy_report.START, lazy_report.COMPLETE, lazy_report.FAIL) == (
        model.START,
        model.COMPLETE,
        model.FAIL,
    )
