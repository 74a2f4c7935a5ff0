"""``alvin-integration reconcile``: recover the events a machine never got confirmed.

A task process killed with ``kill -9``, a worker lost to the OOM killer, a spool on a disk that
went away: the metadata database still says what ran. From it, the events each finished try and
DAG run should have produced are rebuilt with the same deterministic ids (so a resend is harmless
at the receiver) and spooled, unless this machine's ledger shows them confirmed or the spool
already holds them. Rebuilt events carry identity, state and times, and say in their ``alvin``
facet that reconcile rebuilt them (``rebuilt_by``). With ``--backfill`` (onboarding) each try's
lineage is rebuilt too, from its DAG's current definition (``backfill.py``); without it, the
lineage only a live try could read (its SQL's tables, job ids) is not rebuilt.

History is read a page of tries at a time, each page in a short session of its own (keyset
paging, ``history.task_try_pages``), and DAG runs are spooled a page at a time too. ``pace`` runs
between pages: the command waits there for the API to take what was spooled, so that months of
history never overflow the spool nor flood the API (the sender honours ``Retry-After`` and the
circuit).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple

from alvin_integration.emitter import Emitter
from alvin_integration.model import COMPLETE, FAIL, START, RunEvent
from alvin_integration.producers.airflow import history
from alvin_integration.producers.airflow.backfill import LINEAGE_NOTE, DefinitionLineage
from alvin_integration.producers.airflow.events import Host, dag_run_event, task_event
from alvin_integration.producers.airflow.host_attrs import state_name
from alvin_integration.producers.airflow.read import read_task_try

TERMINAL = {"success": COMPLETE, "skipped": COMPLETE, "failed": FAIL, "up_for_retry": FAIL}
RUN_TERMINAL = {"success": COMPLETE, "failed": FAIL}


@dataclass
class ReconcileResult:
    """What a reconcile found and did."""

    tries: int = 0
    pages: int = 0  # pages of tries read from the metadata database
    dag_runs: int = 0
    events: int = 0  # the events that history calls for
    confirmed: int = 0  # already confirmed by the API from this machine
    waiting: int = 0  # already waiting in the spool
    spooled: int = 0  # rebuilt and spooled now (with --dry-run: that would be)
    with_lineage: int = 0  # tries whose lineage was rebuilt (--backfill)
    stopped: Optional[str] = None  # why the pages stopped before the end, if they did

    def summary(self) -> str:
        """One line for the command's output."""
        lineage = f", {self.with_lineage} try(s) with lineage" if self.with_lineage else ""
        return (
            f"{self.events} event(s) for {self.tries} task try(s) and {self.dag_runs} DAG run(s): "
            f"{self.confirmed} already delivered, {self.waiting} waiting in the spool, "
            f"{self.spooled} spooled now{lineage} (tries read in {self.pages} page(s))"
        )


REBUILT_BY = "alvin-integration reconcile"


def _at(event: RunEvent, when: Any, lineage: bool = False) -> RunEvent:
    if isinstance(when, datetime):
        event.event_time = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    details = getattr(event.run.facets.get("alvin"), "details", None)
    if isinstance(details, dict):
        details["rebuilt_by"] = REBUILT_BY
        if lineage:
            details["lineage"] = LINEAGE_NOTE
    return event


@contextlib.contextmanager
def _with_lineage(row: Any, dag_run: Any, lineage: Optional[DefinitionLineage]) -> Iterator[Any]:
    """The try's lineage rebuilt from its DAG's definition (None without one), its task on ``row``
    meanwhile (for its SQL and operator), taken off after."""
    if lineage is None:
        yield None
        return
    with lineage.rendered(row, dag_run) as (task, found):
        row.task = task
        try:
            yield found
        finally:
            del row.task


def task_events(
    row: Any, try_number: int, dag_run: Any, host: Host, lineage: Optional[DefinitionLineage] = None
) -> List[RunEvent]:
    """The START and terminal event one recorded try should have produced (with ``lineage``: its
    datasets as its DAG's current definition names them for its logical date)."""
    state = state_name(row.state)
    if (row.start_date is None and row.end_date is None) or try_number < 1:
        return []  # it never ran (upstream failed, removed, still queued)
    with _with_lineage(row, dag_run, lineage) as found:
        tries = [(START, read_task_try(row, try_number, "running", dag_run), row.start_date or row.end_date)]
        if state in TERMINAL:
            error = None
            if TERMINAL[state] == FAIL:
                error = f"the try ended {state}; its error was not recorded (rebuilt by {REBUILT_BY})"
            tries.append(
                (TERMINAL[state], read_task_try(row, try_number, state, dag_run, error=error), row.end_date)
            )
        events = []
        for kind, task_try, when in tries:
            if found is not None:
                task_try.inputs, task_try.outputs = list(found.inputs), list(found.outputs)
                task_try.run_facets.update(found.run_facets)
            events.append(_at(task_event(kind, task_try, host), when, lineage=found is not None))
    return events


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
    lineage: Optional[DefinitionLineage] = None,
    page_size: int = history.PAGE_SIZE,
    pace: Optional[Callable[[], Optional[str]]] = None,
    dry_run: Optional[Callable[[RunEvent], None]] = None,
) -> ReconcileResult:
    """Spool every event the history since ``now - since`` calls for that this machine lacks.

    ``settle``: leave out what started within it, whose live events may still be on their way
    (a rebuilt event, which carries no lineage, must not reach the receiver first). ``lineage``:
    rebuild each try's lineage from its DAG's current definition. ``pace``: called after each page
    that spooled something; a text it returns stops the pages there (``stopped``). ``dry_run``:
    called with each event that would be spooled, instead of spooling it.
    """
    now = now or datetime.now(timezone.utc)
    start, until = now - since, (now - settle if settle else None)
    runs = history.dag_runs_since(start, dag_ids, until)
    by_key = history.index_dag_runs(runs)
    result = ReconcileResult(dag_runs=len(runs))
    confirmed, waiting = emitter.sender.ledger.ids(), emitter.spool.pending_ids()

    def spool(events: List[RunEvent]) -> int:
        spooled = 0
        for event in events:
            result.events += 1
            if event.event_id in confirmed:
                result.confirmed += 1
            elif event.event_id in waiting:
                result.waiting += 1
            else:
                if dry_run is not None:
                    dry_run(event)
                else:
                    emitter.emit(event)
                waiting.add(event.event_id)
                result.spooled += 1
                spooled += 1
        return spooled

    def spool_paced(events: List[RunEvent]) -> bool:
        """Spool a page's events, then wait for the API at its pace; whether to go on."""
        if spool(events) and pace is not None and dry_run is None:
            result.stopped = pace()
        return result.stopped is None

    for first in range(0, len(runs), page_size):
        if not spool_paced(
            [event for run in runs[first : first + page_size] for event in dag_run_events(run, host)]
        ):
            return result
    for page in history.task_try_pages(start, dag_ids, until, page_size):
        result.tries += len(page)
        result.pages += 1
        events: List[RunEvent] = []
        for row, try_number in page:
            rebuilt = task_events(row, try_number, by_key.get(history.dag_run_key(row)), host, lineage)
            result.with_lineage += int(bool(rebuilt) and "lineage" in _details(rebuilt[0]))
            events += rebuilt
        if not spool_paced(events):
            break
    return result


def _details(event: RunEvent) -> Tuple[str, ...]:
    details = getattr(event.run.facets.get("alvin"), "details", None)
    return tuple(details) if isinstance(details, dict) else ()


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
