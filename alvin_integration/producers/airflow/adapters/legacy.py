"""Airflow 1.10 and 2.0-2.2: no listener API, so host functions are wrapped (and the backend used).

- START: after ``TaskInstance.render_templates`` in the task's own process (just before execute);
  1.10's contrib Snowflake hook is then watched for the query ids it runs (``query_ids.py``).
- FAIL (and ``up_for_retry``): after ``TaskInstance.handle_failure``.
- skipped: after ``TaskInstance.set_duration`` once the state is ``skipped``.
- COMPLETE: the ``[lineage] backend`` (Airflow calls it after a successful ``execute``, with the
  resolved inlets and outlets).
- DAG runs: after ``DagRun.update_state`` (the scheduler's state transition); a START once for the
  machine (``machine_once.py``), as 1.10 calls it in a new process for each DAG file, every loop.

Each wrapper calls the original unchanged and reports after it, guarded; installed once, at
plugin load, which these versions do before the task executes and when the scheduler reads DAGs.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional

from alvin_integration.guard import call_guarded
from alvin_integration.producers.airflow.adapters.failure import REPORTED, after_handle_failure, try_key
from alvin_integration.producers.airflow.adapters.lazy_report import (
    COMPLETE,
    FAIL,
    START,
    datasets,
    report_dag_run_once,
    report_definition,
    report_task,
)
from alvin_integration.producers.airflow.adapters.query_ids import recorded_query_ids, watch_snowflake_queries
from alvin_integration.producers.airflow.compat import current_try
from alvin_integration.producers.airflow.host_attrs import state_name
from alvin_integration.producers.airflow.wrap import wrap_after


def _after_render_templates(result: Any, ti: Any, *args: Any, **kwargs: Any) -> None:
    # The try's own process: 2.x sets ti.pid there (the debug executor leaves the state QUEUED);
    # 1.10 sets RUNNING in the supervising process. A webserver rendering a running try may
    # report it too: its START has the same event id, which the receiver dedupes.
    running = getattr(ti, "pid", None) == os.getpid() or state_name(ti.state) == "running"
    if running and REPORTED.first(try_key(ti, START)):
        # guarded on its own: a problem watching Snowflake queries must not cost the START
        call_guarded("watching Snowflake queries", watch_snowflake_queries)
        report_task(START, ti, current_try(ti), "running")


def _after_set_duration(result: Any, ti: Any, *args: Any, **kwargs: Any) -> None:
    if state_name(ti.state) == "skipped" and REPORTED.first(try_key(ti, "skipped")):
        report_task(COMPLETE, ti, current_try(ti), "skipped")


def _after_update_state(result: Any, dag_run: Any, *args: Any, **kwargs: Any) -> None:
    # 1.10 runs this in a new DAG-processor process for each DAG file, every scheduler loop: the
    # START of a running run is reported once for the machine, not once per process.
    state = state_name(dag_run.state)
    event = {"running": START, "success": COMPLETE, "failed": FAIL}.get(state or "")
    if not event or not REPORTED.first(f"dagrun|{dag_run.dag_id}|{dag_run.run_id}|{event}"):
        return
    reported = report_dag_run_once(event, dag_run, None if event != FAIL else "DAG run failed")
    if reported and event == START:  # and the DAG's definition, if its structure changed
        report_definition(getattr(dag_run, "dag", None))


def install_wrappers() -> None:
    """Wrap the host functions that own the transitions (idempotent)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    wrap_after(TaskInstance, "render_templates", "reporting a task start", _after_render_templates)
    wrap_after(TaskInstance, "handle_failure", "reporting a task failure", after_handle_failure)
    wrap_after(TaskInstance, "set_duration", "reporting a skipped task", _after_set_duration)
    wrap_after(DagRun, "update_state", "reporting a DAG run", _after_update_state)


def report_success_from_backend(
    operator: Any, inlets: Optional[List[Any]], outlets: Optional[List[Any]], context: Dict[str, Any]
) -> None:
    """Report the COMPLETE of the try that just ran, with the inlets/outlets Airflow resolved."""
    ti = context.get("ti") or context.get("task_instance")
    if ti is None or not REPORTED.first(try_key(ti, COMPLETE)):
        return
    report_task(
        COMPLETE,
        ti,
        current_try(ti),
        "success",
        inputs=datasets(inlets),
        outputs=datasets(outlets),
        query_ids=recorded_query_ids(),
    )
