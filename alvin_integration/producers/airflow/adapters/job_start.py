"""Airflow 2.5+: at a job's start, import the report path, so that the task processes it forks have it.

A task's supervisor (``tasks run --local``, a Celery worker's child) starts its ``LocalTaskJob``
before it marks the try running and forks the process that runs the task. Imported here, the
report path (about 15 ms) is no longer part of the try's duration: the forked process inherits
the modules. Only imports: no thread, no file, nothing a fork could inherit half-done. A
scheduler or triggerer pays the same import once, at its start.
"""

from __future__ import annotations

from typing import Any

from airflow.listeners import hookimpl

from alvin_integration.guard import call_guarded


def _import_report_path() -> None:
    import alvin_integration.producers.airflow.report  # noqa: F401


@hookimpl
def on_starting(component: Any) -> None:
    """An Airflow job (a task's supervisor, the scheduler...) starts."""
    call_guarded("preparing the report path", _import_report_path)
