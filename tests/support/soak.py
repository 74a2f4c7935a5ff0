"""An outage under load: a Celery deployment runs many task tries while the API goes away and back.

Shared by tests/e2e/test_soak.py (small, in ``make test``) and benchmarks/soak.py (``make soak``).
The mock API stops when a third of the tries have finished and starts again (same port, same
store) at two thirds. Afterwards each try and DAG run must be at the API once per event type
(the store dedupes on event ids), and every task must have ended as it would without us.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, NamedTuple, Optional, Set, Tuple

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import run_airflow
from tests.support.celery_deployment import TEST_DAGS, components, free_port, migrated, wait_for
from tests.support.deployment import start, stop, trigger_when_parsed
from tests.support.processes import MockBackendProcess, alvin_env, run_cli
from tests.support.services import query

API_KEY = "local-dev-api-key"  # the compose file's
# The mock API runs on this machine, a real one elsewhere: it gets what CPU the tasks leave.
API_NICE = 10
DRAIN_SECONDS = 300.0  # an upper bound on waiting for the backlog, not a speed requirement


@dataclass
class SoakResult:
    """What one soak run saw."""

    runs: int
    tasks: int
    enabled: bool
    outage: bool
    states: Dict[str, int] = field(default_factory=dict)  # task instance state -> count
    durations: List[float] = field(default_factory=list)  # seconds, per task try (Airflow's own)
    expected: Set[Tuple[str, str]] = field(default_factory=set)  # (run id, event type)
    received: Set[Tuple[str, str]] = field(default_factory=set)
    backlog: Backlog = field(default_factory=lambda: Backlog())  # made before the return, received after
    after_return: List[float] = field(default_factory=list)  # durations of tries started soon after it
    api_back_at: Optional[float] = None  # when the API came back (time.time())
    left_for_flush: int = 0  # events only `spool flush` delivered after the drain wait
    seconds: float = 0.0

    @property
    def missing(self) -> Set[Tuple[str, str]]:
        """Events the history calls for that never arrived."""
        return self.expected - self.received

    def percentile(self, share: float) -> float:
        """The ``share`` quantile of task durations."""
        ordered = sorted(self.durations)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")

    def summary(self) -> Dict[str, Any]:
        """Figures for printing and JSON."""
        return {
            "runs": self.runs,
            "tasks": self.tasks,
            "integration": "on" if self.enabled else "off",
            "outage": self.outage,
            "states": self.states,
            "duration_p50_s": round(self.percentile(0.5), 3),
            "duration_p95_s": round(self.percentile(0.95), 3),
            "duration_mean_s": round(statistics.fmean(self.durations), 3) if self.durations else None,
            "expected_events": len(self.expected),
            "received_events": len(self.received & self.expected),
            "missing": len(self.missing),
            "missing_examples": [f"{kind} of run {run}" for run, kind in sorted(self.missing)[:5]],
            "drain_events_per_s": _rounded(self.backlog.rate),
            "drain_steady_events_per_s": _rounded(self.backlog.steady_rate),
            "backlog_events": self.backlog.events,
            "backlog_first_after_s": _rounded(self.backlog.first_after),
            "backlog_delivered_after_s": _rounded(self.backlog.last_after),
            "after_return_p50_s": round(statistics.median(self.after_return), 3)
            if self.after_return
            else None,
            "left_for_spool_flush": self.left_for_flush,
            "seconds": round(self.seconds, 1),
        }


def _rounded(value: Optional[float]) -> Optional[float]:
    return round(value, 1) if value is not None else None


def _received(backend: MockBackendProcess) -> Set[Tuple[str, str]]:
    return {
        (item["event"]["run"]["runId"], item["event"]["eventType"])
        for item in backend.get("/api/v1/events")
        if item["event"]["eventType"] in ("START", "COMPLETE", "FAIL")
        and item["event"]["job"]["name"].startswith("alvin_soak")
    }


class Backlog(NamedTuple):
    """The events made before the API came back and received after it."""

    events: int = 0
    rate: Optional[float] = None  # events/s from the backlog's first event received to its last
    steady_rate: Optional[float] = None  # the same over its middle 90% (stragglers left out)
    first_after: Optional[float] = None  # seconds from the API's return to the first of them
    last_after: Optional[float] = None  # ... and to the last of them (the spool empty of them)


def _backlog(backend: MockBackendProcess, back_at: Optional[float]) -> Backlog:
    """The backlog once the API was back. Its steady rate leaves out the first and last 5% of its
    events: a try that met the outage's end sends its own START only when it ends, seconds later,
    and that one event would otherwise set the rate of the whole drain."""
    if back_at is None:
        return Backlog()
    backlog = sorted(
        item["received_at"]
        for item in backend.get("/api/v1/events")
        if item["event"]["job"]["name"].startswith("alvin_soak")
        and item["received_at"] >= back_at
        and _wall_time(item["event"]["eventTime"]) < back_at
    )
    if not backlog:
        return Backlog()
    cut = len(backlog) // 20
    middle = backlog[cut : len(backlog) - cut]
    return Backlog(
        len(backlog),
        len(backlog) / max(backlog[-1] - backlog[0], 1e-3),
        len(middle) / max(middle[-1] - middle[0], 1e-3),
        backlog[0] - back_at,
        max(backlog[-1] - back_at, 1e-3),
    )


# Tries that started this soon after the API's return ran while the backlog drained.
AFTER_RETURN_SECONDS = 30.0


def _durations_after_return(database: str, back_at: Optional[float]) -> List[float]:
    if back_at is None:
        return []
    rows = query(
        database,
        "SELECT duration FROM task_instance WHERE dag_id = 'alvin_soak' AND duration IS NOT NULL "
        f"AND start_date BETWEEN to_timestamp({back_at:.3f}) "
        f"AND to_timestamp({back_at + AFTER_RETURN_SECONDS:.3f})",
    )
    return [float(d) for (d,) in rows]


def _wall_time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _expected(database: str) -> Set[Tuple[str, str]]:
    from alvin_integration.model import dag_run_run_id, task_run_id

    expected = set()
    for task_id, run_id, try_number, state in query(
        database, "SELECT task_id, run_id, try_number, state FROM task_instance WHERE dag_id = 'alvin_soak'"
    ):
        run = task_run_id("alvin_soak", task_id, run_id, try_number)
        expected |= {(run, "START"), (run, "COMPLETE" if state == "success" else "FAIL")}
    if version_compat.AIRFLOW_V_2_5_PLUS or version_compat.NEEDS_LINEAGE_BACKEND:  # DAG-run events
        for run_id, state in query(database, "SELECT run_id, state FROM dag_run WHERE dag_id = 'alvin_soak'"):
            run = dag_run_run_id("alvin_soak", run_id)
            expected |= {(run, "START"), (run, "COMPLETE" if state == "success" else "FAIL")}
    return expected


def run_soak(
    work: Path,
    database: str,
    runs: int,
    tasks: int,
    parallelism: int = 8,
    outage: bool = True,
    enabled: bool = True,
) -> SoakResult:
    """Run ``runs`` DAG runs of ``tasks`` one-second tasks through the Celery deployment."""
    began = time.monotonic()
    port = free_port()
    store = str(work / "alvin.db")
    backend: Optional[MockBackendProcess] = MockBackendProcess(
        store, api_key=API_KEY, port=port, nice=API_NICE
    )
    url = f"http://127.0.0.1:{port}"
    env = migrated(
        work,
        database,
        url,
        AIRFLOW__CORE__DAGS_FOLDER=TEST_DAGS,
        ALVIN_SOAK_TASKS=str(tasks),
        ALVIN_DISABLED="false" if enabled else "true",
        AIRFLOW__CORE__PARALLELISM=str(parallelism),
        AIRFLOW__CELERY__WORKER_CONCURRENCY=str(parallelism),
        AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG=str(parallelism),
        AIRFLOW__CORE__DAG_CONCURRENCY=str(parallelism),
    )
    result = SoakResult(runs, tasks, enabled, outage)
    procs = [start(env, args, work / f"{args[0]}.log") for args in components(env)]
    total = runs * tasks
    done = "SELECT count(*) FROM task_instance WHERE dag_id = 'alvin_soak' AND state IN ('success', 'failed')"
    try:
        legacy = not version_compat.AIRFLOW_V_2_PLUS
        for number in range(runs):
            command = ["trigger_dag", "-r", f"soak_{number}", "alvin_soak"]
            if not legacy:
                command = ["dags", "trigger", "-r", f"soak_{number}", "alvin_soak"]
            triggered = trigger_when_parsed(env, command)
            assert triggered.returncode == 0, triggered.stderr[-2000:]
        assert (
            run_airflow(
                env, *(["unpause", "alvin_soak"] if legacy else ["dags", "unpause", "alvin_soak"])
            ).returncode
            == 0
        )
        down_at: Optional[float] = None

        def finished() -> bool:
            nonlocal backend, down_at
            count = query(database, done)[0][0]
            if outage and backend is not None and down_at is None and count >= total / 3:
                backend.stop()
                backend, down_at = None, time.monotonic()
            if outage and backend is None and count >= 2 * total / 3:
                backend = MockBackendProcess(store, api_key=API_KEY, port=port, nice=API_NICE)
                result.api_back_at = time.time()
            return bool(count >= total)

        wait_for(finished, f"{total} task tries", procs, work, seconds=max(600.0, total * 6.0))
        if backend is None:  # every try ended before two thirds were seen: the API comes back now
            backend = MockBackendProcess(store, api_key=API_KEY, port=port, nice=API_NICE)
            result.api_back_at = time.time()
        runs_done = (
            "SELECT count(*) FROM dag_run WHERE dag_id = 'alvin_soak' AND state IN ('success', 'failed')"
        )
        wait_for(lambda: query(database, runs_done)[0][0] >= runs, "every DAG run's end", procs, work)
        if enabled:
            result.expected = _expected(database)
            deadline = time.monotonic() + DRAIN_SECONDS
            while time.monotonic() < deadline and not result.expected <= _received(backend):
                time.sleep(1)
            result.backlog = _backlog(backend, result.api_back_at)
    finally:
        stop(procs)
    if enabled:
        assert backend is not None
        before = len(_received(backend) & result.expected)
        spool = str(Path(env["AIRFLOW_HOME"]) / "alvin" / "spool")
        run_cli(alvin_env(backend.url, spool, ALVIN_API_KEY=API_KEY), "spool", "flush", timeout=300)
        result.received = _received(backend)
        result.left_for_flush = len(result.received & result.expected) - before
    if backend is not None:
        backend.stop()
    for state, count in query(
        database, "SELECT state, count(*) FROM task_instance WHERE dag_id = 'alvin_soak' GROUP BY state"
    ):
        result.states[str(state)] = int(count)
    result.after_return = _durations_after_return(database, result.api_back_at)
    result.durations = [
        float(d)
        for (d,) in query(database, "SELECT duration FROM task_instance WHERE dag_id = 'alvin_soak'")
        if d is not None
    ]
    result.seconds = time.monotonic() - began
    return result
