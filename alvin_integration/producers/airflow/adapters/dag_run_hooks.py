"""DAG-run listener hooks, the same on Airflow 2.5+ and 3.x (the scheduler calls them)."""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from alvin_integration.guard import never_raise
from alvin_integration.producers.airflow.report import COMPLETE, FAIL, START, report_dag_run


class DagRunHooks:
    """Reports DAG runs; a listener class inherits these where Airflow has DAG-run listeners."""

    @hookimpl
    @never_raise("reporting a DAG run start")
    def on_dag_run_running(self, dag_run: Any, msg: str) -> None:
        report_dag_run(START, dag_run)

    @hookimpl
    @never_raise("reporting a DAG run success")
    def on_dag_run_success(self, dag_run: Any, msg: str) -> None:
        report_dag_run(COMPLETE, dag_run)

    @hookimpl
    @never_raise("reporting a DAG run failure")
    def on_dag_run_failed(self, dag_run: Any, msg: str) -> None:
        report_dag_run(FAIL, dag_run, msg)
