"""Airflow 3: this module is the listener (task-SDK listeners, skipped included, and DAG runs).

A module, as on Airflow 2 (see ``airflow2``): one form of listener for every version.
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


def _started(ti: Any) -> None:
    report_task(START, ti, ti.try_number, "running")


def _succeeded(ti: Any) -> None:
    report_task(COMPLETE, ti, ti.try_number, state_name(ti.state) or "success")


def _skipped(ti: Any) -> None:
    report_task(COMPLETE, ti, ti.try_number, "skipped")


def _failed(ti: Any, error: Any) -> None:
    report_task(FAIL, ti, ti.try_number, state_name(ti.state) or "failed", error)


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
