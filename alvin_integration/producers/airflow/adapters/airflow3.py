"""Airflow 3: this module is the listener (task-SDK listeners, skipped included, and DAG runs).

A module, as on Airflow 2 (see ``airflow2``): one form of listener for every version. Airflow 3.0
has no skipped listener (3.1 added it): there a try's start wraps the task runner's callback runner,
after which a skip is reported (``_wrap_skip_callbacks``).
"""

from __future__ import annotations

import sys
from typing import Any

from airflow.listeners import hookimpl

from alvin_integration.guard import call_guarded
from alvin_integration.producers.airflow.adapters.dag_run_hooks import (  # noqa: F401
    on_dag_run_failed,
    on_dag_run_running,
    on_dag_run_success,
)
from alvin_integration.producers.airflow.adapters.lazy_report import COMPLETE, FAIL, START, report_task
from alvin_integration.producers.airflow.host_attrs import state_name
from alvin_integration.producers.airflow.version_compat import AIRFLOW_V_3_1_PLUS
from alvin_integration.producers.airflow.wrap import wrap_after

TASK_RUNNER = "airflow.sdk.execution_time.task_runner"


def _started(ti: Any) -> None:
    if not AIRFLOW_V_3_1_PLUS:
        _wrap_skip_callbacks()
    report_task(START, ti, ti.try_number, "running")


def _succeeded(ti: Any) -> None:
    report_task(COMPLETE, ti, ti.try_number, state_name(ti.state) or "success")


def _skipped(ti: Any) -> None:
    report_task(COMPLETE, ti, ti.try_number, "skipped")


def _failed(ti: Any, error: Any) -> None:
    report_task(FAIL, ti, ti.try_number, state_name(ti.state) or "failed", error)


def _after_state_callbacks(result: Any, *args: Any, **kwargs: Any) -> None:
    """After ``_run_task_state_change_callbacks(task, kind, context, log)``: a skip's ends the try."""
    kind = kwargs.get("kind", args[1] if len(args) > 1 else None)
    context = kwargs.get("context", args[2] if len(args) > 2 else None) or {}
    ti = context.get("ti") or context.get("task_instance")
    if kind == "on_skipped_callback" and ti is not None:
        _skipped(ti)


def _wrap_skip_callbacks() -> None:
    """Airflow 3.0: wrap the task runner's callback runner, which its ``finalize`` calls on a skip.

    The task runner is running when a try starts (in a task process and in ``dags test``) and
    ``finalize`` looks the function up at the call; once per process (``wrap_after`` is idempotent).
    """
    runner = sys.modules.get(TASK_RUNNER)
    if runner is not None and hasattr(runner, "_run_task_state_change_callbacks"):
        wrap_after(
            runner, "_run_task_state_change_callbacks", "reporting a skipped task", _after_state_callbacks
        )


# Each hook reads nothing itself: everything happens inside the guard.
@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    """A task try starts."""
    call_guarded("reporting a task start", _started, task_instance)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    """A task try succeeded."""
    call_guarded("reporting a task success", _succeeded, task_instance)


@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    """A task skipped itself."""
    call_guarded("reporting a skipped task", _skipped, task_instance)


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    """A task try failed."""
    call_guarded("reporting a task failure", _failed, task_instance, error)


LISTENER = sys.modules[__name__]
