"""Turn a host callback into spooled events: the one path every adapter reports through."""

from __future__ import annotations

import os
from typing import Any, List, Optional

from alvin_integration.emitter import Emitter, flush, get_emitter
from alvin_integration.model import COMPLETE, FAIL, START, Dataset
from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.extract import (
    Host,
    dag_run_event,
    read_task_try,
    task_event,
)

TERMINAL_EVENTS = (COMPLETE, FAIL)


def host_of(emitter: Emitter) -> Host:
    """Where events come from: this Airflow, and Composer details when on Composer."""
    host = Host(emitter.settings.platform_id, version_compat.AIRFLOW_VERSION_TEXT)
    if version_compat.is_composer():
        host.composer_environment = os.environ.get("COMPOSER_ENVIRONMENT") or "unknown"
        host.composer_version = os.environ.get("COMPOSER_VERSION")
    return host


def report_task(
    event_type: str,
    ti: Any,
    try_number: int,
    state: Optional[str],
    error: Optional[BaseException] = None,
    error_text: Optional[str] = None,
    inputs: Optional[List[Dataset]] = None,
    outputs: Optional[List[Dataset]] = None,
) -> None:
    """Spool one task-try event; at the end of a try, wait (bounded) for delivery."""
    emitter = get_emitter()
    if emitter is None:
        return
    task_try = read_task_try(ti, try_number, state, error=error)
    task_try.error_text = error_text
    task_try.inputs = inputs if inputs else task_try.inputs
    task_try.outputs = outputs if outputs else task_try.outputs
    emitter.emit(task_event(event_type, task_try, host_of(emitter)))
    if event_type in TERMINAL_EVENTS:
        # The task process is about to end: give delivery a bounded chance; the rest stays spooled.
        flush(emitter.settings.flush_timeout)


def report_dag_run(event_type: str, dag_run: Any, msg: Optional[str] = None) -> None:
    """Spool one DAG-run event (the scheduler's sender delivers it; no waiting here)."""
    emitter = get_emitter()
    if emitter is None:
        return
    emitter.emit(dag_run_event(event_type, dag_run, host_of(emitter), msg))


__all__ = ["COMPLETE", "FAIL", "START", "report_dag_run", "report_task"]
