"""Airflow 3: a listener plugin for task tries (task-SDK listeners, skipped included) and DAG runs."""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from alvin_integration.guard import never_raise
from alvin_integration.producers.airflow.adapters.dag_run_hooks import DagRunHooks
from alvin_integration.producers.airflow.extract import state_name
from alvin_integration.producers.airflow.report import COMPLETE, FAIL, START, report_task


class Airflow3Listener(DagRunHooks):
    """Reports task tries and DAG runs; each hook is guarded."""

    @hookimpl
    @never_raise("reporting a task start")
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        report_task(START, task_instance, task_instance.try_number, "running")

    @hookimpl
    @never_raise("reporting a task success")
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        report_task(
            COMPLETE, task_instance, task_instance.try_number, state_name(task_instance.state) or "success"
        )

    @hookimpl
    @never_raise("reporting a skipped task")
    def on_task_instance_skipped(self, previous_state: Any, task_instance: Any) -> None:
        report_task(COMPLETE, task_instance, task_instance.try_number, "skipped")

    @hookimpl
    @never_raise("reporting a task failure")
    def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
        exc = error if isinstance(error, BaseException) else None
        text = None if exc is not None else (str(error) if error else None)
        state = state_name(task_instance.state) or "failed"
        report_task(FAIL, task_instance, task_instance.try_number, state, exc, text)


LISTENER = Airflow3Listener()
