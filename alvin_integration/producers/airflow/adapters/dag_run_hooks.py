"""DAG-run listener hooks, the same on Airflow 2.5+ and 3.x (the scheduler calls them).

Module-level functions with the spec's own argument names: a listener module re-exports them
(Airflow 2.3 and 2.4 accept only modules as listeners; pluggy matches hooks by argument name).
"""

from __future__ import annotations

from typing import Any, Optional

from airflow.listeners import hookimpl

from alvin_integration.guard import call_guarded
from alvin_integration.producers.airflow.adapters.lazy_report import (
    COMPLETE,
    FAIL,
    START,
    report_dag_run,
    report_definition,
)


def _send_definition(dag_run: Any) -> None:
    report_definition(getattr(dag_run, "dag", None))  # a detached run's property may raise


@hookimpl
def on_dag_run_running(dag_run: Any, msg: Optional[str]) -> None:
    """A DAG run started; its DAG's definition is sent too if its structure changed."""
    call_guarded("reporting a DAG run start", report_dag_run, START, dag_run)
    call_guarded("sending a DAG definition", _send_definition, dag_run)


@hookimpl
def on_dag_run_success(dag_run: Any, msg: Optional[str]) -> None:
    """A DAG run succeeded."""
    call_guarded("reporting a DAG run success", report_dag_run, COMPLETE, dag_run)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: Optional[str]) -> None:
    """A DAG run failed."""
    call_guarded("reporting a DAG run failure", report_dag_run, FAIL, dag_run, msg)
