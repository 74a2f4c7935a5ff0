"""Run Airflow components as real long-lived processes, trigger the example DAG, collect events."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

from tests.support.airflow_home import airflow_bin, run_airflow
from tests.support.processes import MockBackendProcess

WAIT_SECONDS = 600  # an upper bound on waiting, not a speed requirement


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


def finished_runs(events: List[Dict[str, Any]]) -> List[str]:
    """Run ids of example-DAG runs whose end was reported."""
    return [
        e["event"]["run"]["facets"]["alvin"]["run_id"]
        for e in events
        if e["event"]["job"]["name"] == "alvin_example" and e["event"]["eventType"] in ("COMPLETE", "FAIL")
    ]


def trigger_and_collect(
    env: Dict[str, str], components: List[List[str]], backend: MockBackendProcess, logs: Path
) -> List[Dict[str, Any]]:
    """Start the components, trigger and unpause the example DAG, return the first finished run's events."""
    procs = [start(env, args, logs / f"{args[0]}.log") for args in components]
    try:
        legacy = run_airflow(env, "version").stdout.strip().splitlines()[-1].startswith("1.")
        trigger = ["trigger_dag", "alvin_example"] if legacy else ["dags", "trigger", "alvin_example"]
        unpause = ["unpause", "alvin_example"] if legacy else ["dags", "unpause", "alvin_example"]
        result = run_airflow(env, *trigger)
        assert result.returncode == 0, result.stderr[-2000:]
        assert run_airflow(env, *unpause).returncode == 0
        deadline = time.monotonic() + WAIT_SECONDS
        while not finished_runs(backend.get("/api/v1/events")) and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), f"an Airflow component died; see {logs}"
            time.sleep(2)
        events = backend.get("/api/v1/events")
        runs = finished_runs(events)
        assert runs, f"no DAG run finished in time; see {logs}"
        return [e for e in events if e["event"]["run"]["facets"]["alvin"].get("run_id") == runs[0]]
    finally:
        stop(procs)
