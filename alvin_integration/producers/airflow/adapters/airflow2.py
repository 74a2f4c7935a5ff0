"""Airflow 2.3 to 2.11: this module is the listener (task tries 2.3+, DAG runs 2.5+).

A module, not an object: Airflow 2.3 and 2.4 accept only modules as listeners, and what Airflow
shows of a plugin (``airflow plugins``, the Plugins page) reads a listener's ``__name__`` up to 2.8.
The hooks have the spec's own argument names and guard their body: pluggy matches hooks by
argument name, and pluggy before 1.1 (Airflow 2.3-2.6's constraints) reads them from the function
itself, so a decorated ``*args`` hook would be called with nothing.

Where the listener API is silent or short, Airflow's own functions are wrapped (``install_wrappers``):

- a task that skips itself (every 2.x): after the finished-callback runner;
- a failed try before 2.10: the failed listener fires before ``handle_failure`` sets the new state
  and without the error, so ``handle_failure`` itself is wrapped (FAIL, ``up_for_retry`` included);
- a successful try on 2.3 and 2.4: those call task listeners from the session's flush, with a copy
  of the task instance that has no task (so no inlets or SQL); the COMPLETE comes from the
  finished-callback runner. (Their START, from the same flush, has the task.)
"""

from __future__ import annotations

import sys
from typing import Any

from airflow.listeners import hookimpl

from alvin_integration.guard import call_guarded
from alvin_integration.producers.airflow.adapters.lazy_report import COMPLETE, FAIL, START, report_task
from alvin_integration.producers.airflow.compat import current_try
from alvin_integration.producers.airflow.host_attrs import state_name
from alvin_integration.producers.airflow.version_compat import AIRFLOW_V_2_5_PLUS, AIRFLOW_V_2_10_PLUS
from alvin_integration.producers.airflow.wrap import wrap_after

if AIRFLOW_V_2_5_PLUS:  # DAG-run and lifecycle listeners (before 2.5 Airflow has no spec for them)
    from alvin_integration.producers.airflow.adapters.dag_run_hooks import (  # noqa: F401
        on_dag_run_failed,
        on_dag_run_running,
        on_dag_run_success,
    )
    from alvin_integration.producers.airflow.adapters.job_start import on_starting  # noqa: F401


def _started(ti: Any) -> None:
    report_task(START, ti, current_try(ti), "running")


def _succeeded(ti: Any) -> None:
    report_task(COMPLETE, ti, current_try(ti), state_name(ti.state) or "success")


def _failed(ti: Any, error: Any) -> None:
    report_task(FAIL, ti, current_try(ti), state_name(ti.state) or "failed", error)


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    """A task try starts."""
    call_guarded("reporting a task start", _started, task_instance)


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    """A task try succeeded (before 2.5 reported from the finished callback instead)."""
    if AIRFLOW_V_2_5_PLUS:
        call_guarded("reporting a task success", _succeeded, task_instance)


if AIRFLOW_V_2_10_PLUS:  # before, the hook fires ahead of the new state, without the error

    @hookimpl
    def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
        """A task try failed (2.10+ passes the error; before, ``handle_failure`` is wrapped)."""
        call_guarded("reporting a task failure", _failed, task_instance, error)


LISTENER = sys.modules[__name__]


def _after_finished_callback(result: Any, *args: Any, **kwargs: Any) -> None:
    context = kwargs.get("context") or {}
    ti = context.get("ti") or context.get("task_instance")
    if ti is None and args and hasattr(args[0], "task_id"):  # before 2.10: a TaskInstance method
        ti = args[0]
    if ti is None:
        return
    state = state_name(getattr(ti, "state", None))
    if state == "skipped":
        report_task(COMPLETE, ti, current_try(ti), "skipped")
    elif state == "success" and not AIRFLOW_V_2_5_PLUS:
        _succeeded(ti)


def install_wrappers() -> None:
    """Wrap what Airflow 2 calls after a try where its listeners are silent (module docstring).

    Listener plugins load lazily inside the task's first ``_run_raw_task``, so we wrap what that
    call looks up afterwards: the callback runner (a module function since 2.10, a method before).
    """
    from airflow.models import taskinstance

    what = "reporting a try the listeners do not report"
    if hasattr(taskinstance, "_run_finished_callback"):  # Airflow 2.10+
        wrap_after(taskinstance, "_run_finished_callback", what, _after_finished_callback)
    else:
        wrap_after(taskinstance.TaskInstance, "_run_finished_callback", what, _after_finished_callback)
    if not AIRFLOW_V_2_10_PLUS:
        # imported here, not with the listener: on 2.10+ the plugin's import never needs it (import cost)
        from alvin_integration.producers.airflow.adapters.failure import after_handle_failure

        wrap_after(
            taskinstance.TaskInstance, "handle_failure", "reporting a task failure", after_handle_failure
        )
