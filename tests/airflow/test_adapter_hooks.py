"""Each adapter's hooks driven in-process with fake task instances, against a recording emitter.

Seconds per row, where the e2e runs take minutes: a change to an adapter is caught here first.
The hooks are the ones this Airflow version gets (``adapters.listeners()``); what a version reports
through wrappers instead of listeners is driven through the same wrapper functions.
"""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from alvin_integration.model import dag_run_run_id, task_run_id
from alvin_integration.producers.airflow.version_compat import (
    AIRFLOW_V_2_5_PLUS,
    AIRFLOW_V_2_10_PLUS,
    AIRFLOW_V_3_0_PLUS,
)
from tests.support.recording import RUN, RecordingEmitter, fake_ti
from tests.support.skips import needs_listener_api

pytestmark = needs_listener_api


def listener() -> Any:
    from alvin_integration.producers.airflow.adapters import listeners

    return listeners()[0]


def test_a_start_names_the_try_and_points_at_its_dag_run(recorded: RecordingEmitter) -> None:
    listener().on_task_instance_running(previous_state=None, task_instance=fake_ti("running"))
    (event,) = recorded.events
    assert event["eventType"] == "START"
    assert event["job"] == {**event["job"], "namespace": "unitplatform", "name": "unit_dag.unit_task"}
    assert event["run"]["runId"] == task_run_id("unit_dag", "unit_task", RUN, 1)
    parent = event["run"]["facets"]["parent"]
    assert parent["run"]["runId"] == dag_run_run_id("unit_dag", RUN)
    assert parent["job"] == {"namespace": "unitplatform", "name": "unit_dag"}
    assert event["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith("2026-11-01")


def test_a_start_carries_sql_and_declared_lineage(recorded: RecordingEmitter) -> None:
    if AIRFLOW_V_3_0_PLUS:
        from airflow.sdk import Asset as declared
    else:
        from airflow.lineage.entities import File as declared

    ti = fake_ti(
        "running", sql="SELECT 1", inlets=[declared("s3://b/in.csv")], outlets=[declared("s3://b/out")]
    )
    listener().on_task_instance_running(previous_state=None, task_instance=ti)
    (event,) = recorded.events
    assert event["job"]["facets"]["sql"]["query"] == "SELECT 1"
    assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [("s3://b", "in.csv")]
    assert [(d["namespace"], d["name"]) for d in event["outputs"]] == [("s3://b", "out")]


def finish(ti: Any) -> None:
    """Report a try's success through the hook this version uses."""
    if AIRFLOW_V_2_5_PLUS:
        listener().on_task_instance_success(previous_state=None, task_instance=ti)
    else:  # 2.3/2.4: from the finished-callback runner (their listener sees no task)
        from alvin_integration.producers.airflow.adapters import airflow2

        airflow2._after_finished_callback(None, ti)


def test_a_success_completes_the_same_run(recorded: RecordingEmitter) -> None:
    finish(fake_ti("success"))
    (event,) = recorded.events
    assert event["eventType"] == "COMPLETE" and event["run"]["facets"]["alvin"]["state"] == "success"
    assert event["run"]["runId"] == task_run_id("unit_dag", "unit_task", RUN, 1)


def test_a_failure_carries_its_error_and_the_retry_state(recorded: RecordingEmitter) -> None:
    ti, error = fake_ti("up_for_retry"), ValueError("the unit task failed")
    if AIRFLOW_V_2_10_PLUS:
        listener().on_task_instance_failed(previous_state=None, task_instance=ti, error=error)
    else:  # before 2.10: from TaskInstance.handle_failure (the listener fires ahead of the state)
        from alvin_integration.producers.airflow.adapters.failure import after_handle_failure

        after_handle_failure(None, ti, error)
    (event,) = recorded.events
    assert event["eventType"] == "FAIL" and event["run"]["facets"]["alvin"]["state"] == "up_for_retry"
    assert event["run"]["facets"]["errorMessage"]["message"] == "ValueError: the unit task failed"


def test_a_skipped_task_completes_as_skipped(recorded: RecordingEmitter) -> None:
    ti = fake_ti("skipped")
    if AIRFLOW_V_3_0_PLUS:
        listener().on_task_instance_skipped(previous_state=None, task_instance=ti)
    else:  # Airflow 2 has no skipped listener: the finished-callback runner is wrapped
        from alvin_integration.producers.airflow.adapters import airflow2

        airflow2._after_finished_callback(None, ti)
    (event,) = recorded.events
    assert event["eventType"] == "COMPLETE" and event["run"]["facets"]["alvin"]["state"] == "skipped"


def test_a_hook_that_breaks_never_raises_into_airflow(recorded: RecordingEmitter) -> None:
    broken = SimpleNamespace()  # no attribute a task instance has
    listener().on_task_instance_running(previous_state=None, task_instance=broken)
    assert recorded.events == []


def test_mapped_tries_have_their_own_run_ids_on_every_listener_row(recorded: RecordingEmitter) -> None:
    for index in (0, 1):
        listener().on_task_instance_running(
            previous_state=None, task_instance=fake_ti("running", map_index=index)
        )
    ids = [event["run"]["runId"] for event in recorded.events]
    assert ids == [task_run_id("unit_dag", f"unit_task[{index}]", RUN, 1) for index in (0, 1)]
    assert [event["run"]["facets"]["alvin"]["map_index"] for event in recorded.events] == [0, 1]


def test_only_a_try_whose_process_ends_with_it_waits_at_its_end(
    recorded: RecordingEmitter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An executor's task process waits at the try's end; `dags test`'s process waits at its exit."""
    if AIRFLOW_V_3_0_PLUS:  # the task SDK's comms say whether the try runs in-process
        from airflow.sdk.execution_time import supervisor, task_runner

        in_process = object.__new__(supervisor.InProcessSupervisorComms)
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", object(), raising=False)
        finish(fake_ti("success"))
        monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", in_process)
        finish(fake_ti("success"))
    else:  # a task runner's process (`tasks run --raw`) names its job; dags test's tries name none
        for job_id in (7, None):
            ti = fake_ti("success")
            ti.job_id = job_id
            finish(ti)
    assert recorded.waits == ["at the try's end", "at the exit"]
    assert len(recorded.events) == 2


@pytest.mark.skipif(
    not AIRFLOW_V_2_5_PLUS or AIRFLOW_V_3_0_PLUS,
    reason="Airflow 2.5-2.11 fork the try's process from the supervisor whose job start this is",
)
def test_a_jobs_start_imports_the_report_path_for_the_processes_it_forks() -> None:
    # In a process of its own: this one has long imported the report path.
    code = (
        "import sys\n"
        "from alvin_integration.producers.airflow.adapters import listeners\n"
        "listener = listeners()[0]\n"
        "report = 'alvin_integration.producers.airflow.report'\n"
        "assert report not in sys.modules, 'imported before the job started'\n"
        "listener.on_starting(component=None)\n"
        "assert report in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
