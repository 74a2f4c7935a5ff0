"""A DAG run's START once for the machine (report.report_dag_run_once), on every row.

1.10's DAG processors, a new process for each DAG file every scheduler loop, each see a running run
as running; 2.0-2.2 report through the same wrapper. The e2e Celery test shows it in a deployment.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.recording import RUN, RecordingEmitter


def test_a_dag_runs_start_is_spooled_once_for_the_machine_until_the_run_ends(
    recorded: RecordingEmitter, tmp_path: Any
) -> None:
    """1.10's DAG processors each see a running run as running: one START for the machine."""
    from alvin_integration.producers.airflow import report

    recorded.settings = replace(recorded.settings, spool_dir=str(tmp_path))
    run = SimpleNamespace(dag_id="unit_dag", run_id=RUN, state="running", run_type="manual")
    assert report.report_dag_run_once("START", run)
    assert not report.report_dag_run_once("START", run)  # another processor process, same machine
    assert report.report_dag_run_once("COMPLETE", run)
    assert report.report_dag_run_once("START", run)  # cleared and running anew
    assert [e["eventType"] for e in recorded.events] == ["START", "COMPLETE", "START"]


def test_a_start_that_could_not_be_spooled_is_left_for_the_next_process(
    recorded: RecordingEmitter, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alvin_integration.producers.airflow import report

    recorded.settings = replace(recorded.settings, spool_dir=str(tmp_path))
    run = SimpleNamespace(dag_id="unit_dag", run_id=RUN, state="running", run_type="manual")
    with monkeypatch.context() as broken:
        broken.setattr(recorded, "emit", lambda event: (_ for _ in ()).throw(OSError("disk full")))
        with pytest.raises(OSError):  # the adapter's guard logs it
            report.report_dag_run_once("START", run)
    assert report.report_dag_run_once("START", run)
    assert [e["eventType"] for e in recorded.events] == ["START"]
