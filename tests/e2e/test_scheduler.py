"""A real deployment: scheduler and executor (and on Airflow 3 the API server and DAG processor).

`airflow dags test` fires no DAG-run listener; here the scheduler does, and every task try runs in
its own process, as in production. The legacy rows already run that way (a backfill job).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.e2e.test_dag_runs import GOLDEN, ROW, fresh_home, migrated_home, row_env  # noqa: F401
from tests.support.airflow_home import airflow_bin, run_airflow, task_lines
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess

pytestmark = pytest.mark.skipif(
    ROW["run"] != "dags test",
    reason="this row's e2e runs already go through a backfill job, a process per task",
)
WAIT_SECONDS = 600  # an upper bound on waiting, not a speed requirement


def free_port() -> int:
    url = refused_url()
    return int(url.rsplit(":", 1)[1])


def start(env: Dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [airflow_bin(), *args],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(procs: List[subprocess.Popen[bytes]]) -> None:
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
    return [
        e["event"]["run"]["facets"]["alvin"]["run_id"]
        for e in events
        if e["event"]["job"]["name"] == "alvin_example" and e["event"]["eventType"] in ("COMPLETE", "FAIL")
    ]


def test_a_scheduled_deployment_reports_dag_runs_and_every_try(migrated_home: str, tmp_path: Path) -> None:  # noqa: F811
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    home = fresh_home(migrated_home, tmp_path / "home")
    port = free_port()
    env = row_env(
        home,
        backend.url,
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="true",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
    )
    components = [["scheduler"]]
    if ROW["airflow"].startswith("3."):
        components += [["api-server", "--port", str(port)], ["dag-processor"]]
    procs = [start(env, *args, log=tmp_path / f"{args[0]}.log") for args in components]
    try:
        triggered = run_airflow(env, "dags", "trigger", "alvin_example")
        assert triggered.returncode == 0, triggered.stderr[-2000:]
        assert run_airflow(env, "dags", "unpause", "alvin_example").returncode == 0
        deadline = time.monotonic() + WAIT_SECONDS
        while not finished_runs(backend.get("/api/v1/events")) and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), "an Airflow component died; see its log"
            time.sleep(2)
        events = backend.get("/api/v1/events")
        runs = finished_runs(events)
        assert runs, "no DAG run finished in time"
        run_id = runs[0]
        of_run = [e for e in events if e["event"]["run"]["facets"]["alvin"].get("run_id") == run_id]
        dag_events = [e["event"]["eventType"] for e in of_run if e["event"]["job"]["name"] == "alvin_example"]
        assert dag_events == ["START", "FAIL"]
        assert task_lines(of_run) == json.loads(GOLDEN.read_text())
    finally:
        stop(procs)
        backend.stop()
