"""``alvin-integration reconcile``: recover the events a machine never got confirmed.

A task process killed with ``kill -9``, a worker lost to the OOM killer, a spool on a disk that
went away: the metadata database still says what ran. From it, the events each finished try and
DAG run should have produced are rebuilt with the same deterministic ids (so a resend is harmless
at the receiver) and spooled, unless this machine's ledger shows them confirmed or the spool
already holds them. Rebuilt events carry identity, state and times; the lineage only a live try
could read (its SQL's tables, job ids) is not rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional, Sequence

from alvin_integration.emitter import Emitter
from alvin_integration.model import COMPLETE, FAIL, START, RunEvent
from alvin_integration.producers.airflow import history
from alvin_integration.producers.airflow.attrs import state_name
from alvin_integration.producers.airflow.events import Host, dag_run_event, task_event
from alvin_integration.producers.airflow.read import read_task_try

TERMINAL = {"success": COMPLETE, "skipped": COMPLETE, "failed": FAIL, "up_for_retry": FAIL}
RUN_TERMINAL = {"success": COMPLETE, "failed": FAIL}


@dataclass
class ReconcileResult:
    """What a reconcile found and did."""

    tries: int = 0
    dag_runs: int = 0
    events: int = 0  # the events that history calls for
    confirmed: int = 0  # already confirmed by the API from this machine
    waiting: int = 0  # already waiting in the spool
    spooled: int = 0  # rebuilt and spooled now

    def summary(self) -> str:
        """One line for the command's output."""
        return (
            f"{self.events} event(s) for {self.tries} task try(s) and {self.dag_runs} DAG run(s): "
            f"{self.confirmed} already delivered, {self.waiting} waiting in the spool, "
            f"{self.spooled} spooled now"
        )


def _at(event: RunEvent, when: Any) -> RunEvent:
    if isinstance(when, datetime):
        event.event_time = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return event


def task_events(row: Any, try_number: int, dag_run: Any, host: Host) -> List[RunEvent]:
    """The START and terminal event one recorded try should have produced."""
    state = state_name(row.state)
    if (row.start_date is None and row.end_date is None) or try_number < 1:
        return []  # it never ran (upstream failed, removed, still queued)
    started = read_task_try(row, try_number, "running", dag_run)
    found = [_at(task_event(START, started, host), row.start_date or row.end_date)]
    if state in TERMINAL:
        error = None
        if TERMINAL[state] == FAIL:
            error = (
                f"the try ended {state}; its error was not recorded (rebuilt by alvin-integration reconcile)"
            )
        ended = read_task_try(row, try_number, state, dag_run, error=error)
        found.append(_at(task_event(TERMINAL[state], ended, host), row.end_date))
    return found


def dag_run_events(run: Any, host: Host) -> List[RunEvent]:
    """The START and end event one recorded DAG run should have produced."""
    if run.start_date is None:
        return []
    found = [_at(dag_run_event(START, run, host), run.start_date)]
    state = state_name(run.state)
    if state in RUN_TERMINAL:
        ended = dag_run_event(RUN_TERMINAL[state], run, host, msg=f"DAG run {state}")
        found.append(_at(ended, run.end_date))
    return found


def reconcile(
    emitter: Emitter,
    host: Host,
    since: timedelta,
    dag_ids: Sequence[str] = (),
    now: Optional[datetime] = None,
    settle: Optional[timedelta] = None,
) -> ReconcileResult:
    """Spool every event the history since ``now - since`` calls for that this machine lacks.

    ``settle``: leave out what started within it, whose live events may still be on their way
    (a rebuilt event, which carries no lineage, must not reach the receiver first).
    """
    now = now or datetime.now(timezone.utc)
    start, until = now - since, (now - settle if settle else None)
    runs = history.dag_runs_since(start, dag_ids, until)
    by_key = history.index_dag_runs(runs)
    tries = history.task_tries_since(start, dag_ids, until)
    result = ReconcileResult(tries=len(tries), dag_runs=len(runs))
    events: List[RunEvent] = []
    for run in runs:
        events += dag_run_events(run, host)
    for row, try_number in tries:
        events += task_events(row, try_number, by_key.get(history.dag_run_key(row)), host)
    confirmed, waiting = emitter.sender.ledger.ids(), emitter.spool.pending_ids()
    for event in events:
        result.events += 1
        if event.event_id in confirmed:
            result.confirmed += 1
        elif event.event_id in waiting:
            result.waiting += 1
        else:
            emitter.emit(event)
            waiting.add(event.event_id)
            result.spooled += 1
    return result


def reconcile_periodically(emitter: Emitter, host: Host, interval: float, stop: Any = None) -> None:
    """Every ``interval`` seconds, reconcile what started between three intervals and one interval
    ago (later starts may still have their live events on the way), forever (the scheduler's thread).

    Never raises: a failed round is logged once and the next one runs. ``stop``: a
    ``threading.Event`` that ends the loop (tests).
    """
    import logging
    import threading

    from alvin_integration.logs import log_once

    stop = stop or threading.Event()
    while not stop.wait(interval):
        try:
            reconcile(emitter, host, timedelta(seconds=3 * interval), settle=timedelta(seconds=interval))
        except Exception as exc:  # the database away for a moment: the next round tries again
            log_once(
                "reconcile-round", logging.WARNING, "alvin-integration: a periodic reconcile failed: %s", exc
            )
