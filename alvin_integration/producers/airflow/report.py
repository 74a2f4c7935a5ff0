"""Turn a host callback into spooled events: the one path every adapter reports through."""

from __future__ import annotations

from typing import Any, List, Optional

from alvin_integration.emitter import Emitter, flush, flush_at_exit, get_emitter
from alvin_integration.machine_once import MachineOnce
from alvin_integration.model import COMPLETE, FAIL, START, Dataset, merge_datasets
from alvin_integration.policy import withhold
from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.compat import ends_its_process
from alvin_integration.producers.airflow.composer import composer_facts
from alvin_integration.producers.airflow.events import Host, dag_run_event, task_event
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.read import read_task_try
from alvin_integration.producers.airflow.selection import dag_selected, policy_of, task_selected

TERMINAL_EVENTS = (COMPLETE, FAIL)


def host_of(emitter: Emitter) -> Host:
    """Where events come from: this Airflow, and its Composer environment when on Composer."""
    version = version_compat.AIRFLOW_VERSION_TEXT
    return Host(emitter.settings.platform_id, version, composer_facts(version))


def report_task(
    event_type: str,
    ti: Any,
    try_number: int,
    state: Optional[str],
    error: Any = None,
    inputs: Optional[List[Dataset]] = None,
    outputs: Optional[List[Dataset]] = None,
    query_ids: Optional[List[str]] = None,
) -> None:
    """Spool one task-try event; at the end of a try, wait (bounded) for delivery, or at the exit.

    ``error``: what the host passed as the failure (an exception or text). ``inputs``/``outputs``:
    the datasets the host resolved (1.10-2.2's lineage backend), else the task's declared ones.
    ``query_ids``: the warehouse query ids the adapter recorded where the hook keeps none (1.10).
    """
    emitter = get_emitter()
    if emitter is None:
        return
    policy = policy_of(emitter.settings)
    if not task_selected(policy, ti):  # left out: no extraction, no event, no spool write
        return
    task_try = read_task_try(ti, try_number, state, error=error)
    if query_ids and "query_ids" not in task_try.external_ids:
        task_try.external_ids["query_ids"] = list(query_ids)
    found = lineage_of(
        task_try,
        emitter.settings.extractors,
        at_end=event_type in TERMINAL_EVENTS,
        start_wait=emitter.settings.sql_start_wait_ms / 1000,
    )
    # what the host resolved (1.10-2.2's backend) first, then what was found beyond it
    task_try.inputs = merge_datasets(list(inputs or []), found.inputs)
    task_try.outputs = merge_datasets(list(outputs or []), found.outputs)
    task_try.run_facets.update(found.run_facets)
    emitter.emit(withhold(task_event(event_type, task_try, host_of(emitter)), policy))
    if event_type not in TERMINAL_EVENTS:
        return
    if ends_its_process(ti):  # it is about to end: give delivery a bounded chance; the rest stays spooled
        flush(emitter.settings.flush_timeout)
    else:  # it goes on (dags test): its sender delivers meanwhile, and it waits once, at its exit
        flush_at_exit()


def report_dag_run(event_type: str, dag_run: Any, msg: Optional[str] = None) -> None:
    """Spool one DAG-run event (the scheduler's sender delivers it; no waiting here)."""
    emitter = get_emitter()
    if emitter is None or not dag_selected(policy_of(emitter.settings), dag_run):
        return
    emitter.emit(dag_run_event(event_type, dag_run, host_of(emitter), msg))
    emitter.publish_metrics()  # not a task's path: the process may end before its sender publishes


def report_dag_run_once(event_type: str, dag_run: Any, msg: Optional[str] = None) -> bool:
    """Spool a DAG-run event, a START only if no process of this machine spooled it; True if spooled.

    For hosts where many processes see one transition (1.10's DAG processors: each of them sees a
    running run as running, every scheduler loop). The run's end lets its START be spooled again
    (a cleared run that runs anew); a START that could not be spooled is left for the next process.
    """
    emitter = get_emitter()
    if emitter is None or not dag_selected(policy_of(emitter.settings), dag_run):
        return False
    once = MachineOnce(emitter.settings.spool_dir)
    start = f"dagrun|{dag_run.dag_id}|{dag_run.run_id}|{START}"
    if event_type == START and not once.first(start):
        return False
    try:
        emitter.emit(dag_run_event(event_type, dag_run, host_of(emitter), msg))
    except Exception:
        if event_type == START:  # not spooled: the next process that sees the run running tries
            once.forget(start)
        raise
    if event_type != START:
        once.forget(start)
    emitter.publish_metrics()  # 1.10's DAG processors end right after spooling
    return True


__all__ = ["COMPLETE", "FAIL", "START", "report_dag_run", "report_dag_run_once", "report_task"]
