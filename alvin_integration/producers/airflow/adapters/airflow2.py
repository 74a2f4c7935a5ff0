"""Airflow 2.3 to 2.11: a listener plugin for task tries (2.3+) and DAG runs (2.5+)."""

from __future__ import annotations

from typing import Any, Optional

from airflow.listeners import hookimpl

from alvin_integration.guard import never_raise
from alvin_integration.producers.airflow.adapters.dag_run_hooks import DagRunHooks
from alvin_integration.producers.airflow.adapters.tries import current_try
from alvin_integration.producers.airflow.extract import state_name
from alvin_integration.producers.airflow.report import COMPLETE, FAIL, START, report_task
from alvin_integration.producers.airflow.version_compat import AIRFLOW_V_2_5_PLUS, AIRFLOW_V_2_10_PLUS
from alvin_integration.producers.airflow.wrap import wrap_after


def _failed(ti: Any, error: Optional[BaseException]) -> None:
    state = state_name(ti.state) or "failed"
    text = None if isinstance(error, BaseException) else (str(error) if error else None)
    report_task(FAIL, ti, current_try(ti), state, error if isinstance(error, BaseException) else None, text)


# DAG-run listeners exist from Airflow 2.5 (before, pluggy would reject hooks it has no spec for).
_Base: type = DagRunHooks if AIRFLOW_V_2_5_PLUS else object


class Airflow2Listener(_Base):  # type: ignore[misc,valid-type]
    """Reports task tries; each hook is guarded, so a problem of ours never reaches the task."""

    @hookimpl
    @never_raise("reporting a task start")
    def on_task_instance_running(self, previous_state: Any, task_instance: Any) -> None:
        report_task(START, task_instance, current_try(task_instance), "running")

    @hookimpl
    @never_raise("reporting a task success")
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        report_task(
            COMPLETE, task_instance, current_try(task_instance), state_name(task_instance.state) or "success"
        )

    if AIRFLOW_V_2_10_PLUS:

        @hookimpl
        @never_raise("reporting a task failure")
        def on_task_instance_failed(self, previous_state: Any, task_instance: Any, error: Any) -> None:
            _failed(task_instance, error)

    else:

        @hookimpl
        @never_raise("reporting a task failure")
        def on_task_instance_failed(self, previous_state: Any, task_instance: Any) -> None:  # type: ignore[misc]
            _failed(task_instance, None)


LISTENER = Airflow2Listener()


def _report_if_skipped(result: Any, *args: Any, **kwargs: Any) -> None:
    context = kwargs.get("context") or next((a for a in args if isinstance(a, dict)), None) or {}
    ti = context.get("ti") or context.get("task_instance")
    if ti is not None and state_name(getattr(ti, "state", None)) == "skipped":
        report_task(COMPLETE, ti, current_try(ti), "skipped")


def install_wrappers() -> None:
    """Airflow 2 calls no listener when a task skips itself; it does run the finished callbacks.

    Listener plugins load lazily inside the task's first ``_run_raw_task``, so we wrap what that
    call looks up afterwards: the callback runner (a module function since 2.10, a method before).
    """
    from airflow.models import taskinstance

    if hasattr(taskinstance, "_run_finished_callback"):  # Airflow 2.10+
        wrap_after(taskinstance, "_run_finished_callback", "reporting a skipped task", _report_if_skipped)
    else:
        owner = taskinstance.TaskInstance
        wrap_after(owner, "_run_finished_callback", "reporting a skipped task", _report_if_skipped)
