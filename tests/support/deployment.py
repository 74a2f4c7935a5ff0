"""Run Airflow components as real long-lived processes, trigger the example DAG, collect events."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import airflow_bin, run_airflow
from tests.support.processes import MockBackendProcess

WAIT_SECONDS = 600  # an upper bound on waiting, not a speed requirement


def beside_scheduler(api_port: str) -> List[List[str]]:
    """The components a scheduler needs beside it: Airflow 3's API server and DAG processor."""
    if not version_compat.AIRFLOW_V_3_0_PLUS:
        return []
    return [["api-server", "--port", api_port], ["dag-processor"]]


def triggerer() -> List[List[str]]:
    """The triggerer, where Airflow has one (2.2+)."""
    return [["triggerer"]] if version_compat.AIRFLOW_VERSION.release[:2] >= (2, 2) else []


def start(env: Dict[str, str], args: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
    """Start one Airflow component in its own process group, logging to ``log``."""
    handle = open(log, "wb")  # noqa: SIM115 - the process owns it
    return subprocess.Popen(
        [airflow_bin(), *args],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(procs: List[subprocess.Popen[bytes]]) -> None:
    """Terminate the components and everything they started."""
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _run_id(event: Dict[str, Any]) -> Any:
    return event["event"]["run"]["facets"]["alvin"].get("run_id")


def finished_manual_run(events: List[Dict[str, Any]]) -> Optional[str]:
    """The run id of the triggered example-DAG run once its end was reported (scheduled runs are left out)."""
    return next(
        (
            _run_id(e)
            for e in events
            if e["event"]["job"]["name"] == "alvin_example"
            and e["event"]["eventType"] in ("COMPLETE", "FAIL")
            and str(_run_id(e)).startswith("manual__")
        ),
        None,
    )


def trigger_when_parsed(env: Dict[str, str], trigger: List[str]) -> subprocess.CompletedProcess[str]:
    """Trigger the example DAG once the components know it from this home's DAGs folder.

    The copied home recorded the DAG from another folder; a starting scheduler drops that record and
    parses the folder anew, so a trigger in between finds no DAG. The trigger is repeated until the
    DAG is known again (or the deadline passes and the last answer is returned).
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        result = run_airflow(env, *trigger)
        if result.returncode == 0 or "DagNotFound" not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(2)


def trigger_and_collect(
    env: Dict[str, str],
    components: List[List[str]],
    backend: MockBackendProcess,
    logs: Path,
    task_events: int,
) -> List[Dict[str, Any]]:
    """Start the components, trigger and unpause the example DAG, return the triggered run's events.

    Unpausing also schedules the latest interval; only the triggered run is followed. Its DAG-run end
    comes from the scheduler and may arrive before the last task events, which task processes hand to
    the spool; the wait goes on until ``task_events`` of them are in (or the deadline passes, and the
    caller's comparison shows what is missing).
    """
    procs = [start(env, args, logs / f"{args[0]}.log") for args in components]
    try:
        legacy = not version_compat.AIRFLOW_V_2_PLUS
        trigger = ["trigger_dag", "alvin_example"] if legacy else ["dags", "trigger", "alvin_example"]
        unpause = ["unpause", "alvin_example"] if legacy else ["dags", "unpause", "alvin_example"]
        result = trigger_when_parsed(env, trigger)
        assert result.returncode == 0, result.stderr[-2000:]
        assert run_airflow(env, *unpause).returncode == 0
        run_id: Optional[str] = None
        of_run: List[Dict[str, Any]] = []
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), f"an Airflow component died; see {logs}"
            events = backend.get("/api/v1/events")
            run_id = finished_manual_run(events)
            of_run = [e for e in events if run_id is not None and _run_id(e) == run_id]
            if len([e for e in of_run if "task_id" in e["event"]["run"]["facets"]["alvin"]]) >= task_events:
                return of_run
            time.sleep(2)
        assert run_id is not None, f"the triggered DAG run did not finish in time; see {logs}"
        return of_run
    finally:
        stop(procs)
