"""A real deployment: scheduler and executor (and on Airflow 3 the API server and DAG processor).

`airflow dags test` fires no DAG-run listener; here the scheduler does, and every task try runs in
its own process, as in production. The legacy rows already run that way (a backfill job).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

from alvin_integration.spool import Spool
from tests.e2e.test_dag_definitions import sync_metadata
from tests.support.airflow_home import GOLDEN, fresh_home, row_env, run_airflow, task_lines
from tests.support.api_waits import assert_a_hung_api_held_up_no_host_process, audit_records, watched
from tests.support.backlog import leave_tries
from tests.support.deployment import (
    WAIT_SECONDS,
    beside_scheduler,
    start,
    stop,
    trigger_and_collect,
    triggerer,
)
from tests.support.fault_server import FaultServer, refused_url
from tests.support.processes import MockBackendProcess
from tests.support.skips import not_composer_row, runs_dags_test

pytestmark = [runs_dags_test, not_composer_row]


def free_port() -> int:
    return int(refused_url().rsplit(":", 1)[1])


def scheduler_deployment(
    migrated_home: str, tmp_path: Path, url: str, **extra: str
) -> Tuple[Dict[str, str], List[List[str]]]:
    """A home of its own reporting to ``url``, and the scheduler with what it needs beside it."""
    home = fresh_home(migrated_home, tmp_path / "home")
    port = free_port()
    env = row_env(
        home,
        url,
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="true",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        **extra,
    )
    return env, [["scheduler"], *beside_scheduler(str(port))]


def test_a_scheduled_deployment_reports_dag_runs_and_every_try(migrated_home: str, tmp_path: Path) -> None:
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    env, components = scheduler_deployment(
        migrated_home, tmp_path, backend.url, AIRFLOW__CORE__PARALLELISM="4"
    )
    try:
        golden = json.loads(GOLDEN.read_text())
        of_run = trigger_and_collect(env, components, backend, tmp_path, task_events=len(golden))
        dag_events = [e["event"]["eventType"] for e in of_run if e["event"]["job"]["name"] == "alvin_example"]
        assert dag_events == ["START", "FAIL"]
        assert task_lines(of_run) == golden
        # The scheduler spooled the running DAG's definition; sync-metadata, parsing the real DAG
        # files, finds it unchanged (the serialized and the parsed DAG hash alike) and delivers the rest.
        synced = sync_metadata(env)
        assert "1 definition(s) spooled in 1 page(s), 1 unchanged" in synced.stdout, synced.stdout
        reported = [e["name"] for p in backend.get("/api/v1/metadata") for e in p["entities"]]
        assert reported == ["alvin_example", "alvin_edge_cases"]
    finally:
        backend.stop()


def test_with_the_api_hung_no_scheduler_dag_processor_or_triggerer_waits_for_it(
    migrated_home: str, tmp_path: Path
) -> None:
    """Every wait for the API, and every connection to it off our threads, happens in a try's process."""
    hung = FaultServer(default="hang")  # accepts, reads, never answers
    audit = tmp_path / "audit.jsonl"
    # ALVIN_HTTP_TIMEOUT: no attempt fails, so only our own rules keep anyone from waiting
    env, components = scheduler_deployment(migrated_home, tmp_path, hung.url, ALVIN_HTTP_TIMEOUT="600")
    env = watched(env, audit, hung.port)
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in components + triggerer()]
    try:
        assert run_airflow(env, "dags", "trigger", "alvin_example").returncode == 0
        assert run_airflow(env, "dags", "unpause", "alvin_example").returncode == 0
        deadline = time.monotonic() + WAIT_SECONDS
        ended: List[Dict[str, Any]] = []
        while not ended and time.monotonic() < deadline:
            assert all(p.poll() is None for p in procs), f"an Airflow component died; see {tmp_path}"
            time.sleep(2)
            ended = [
                r
                for r in audit_records(audit)
                if r["kind"] == "emit" and r["event"] == "dag_run" and r["type"] in ("COMPLETE", "FAIL")
            ]
        assert ended, f"no DAG run ended with the API hung; see {tmp_path}"
    finally:
        stop(procs)
        hung.close()
    assert_a_hung_api_held_up_no_host_process(audit, [p.pid for p in procs])


def test_a_running_scheduler_empties_a_backlog_that_ended_processes_left(
    migrated_home: str, tmp_path: Path
) -> None:
    """With the API back, the scheduler's sender drains what ended task processes left, no task running."""
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    # 5 s, not the default minute: past this idle scheduler's forks at its start (no task runs here)
    env, components = scheduler_deployment(migrated_home, tmp_path, backend.url, ALVIN_DRAIN_START_DELAY="5")
    spool = env["ALVIN_SPOOL_DIR"]
    backlog = leave_tries(spool, 1500, events=True)  # 3,000 events, a segment per ended try
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in components]
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        received: Set[str] = set()
        while not backlog <= received:
            assert time.monotonic() < deadline, f"{len(backlog - received)} events left; see {tmp_path}"
            assert all(p.poll() is None for p in procs), f"an Airflow component died; see {tmp_path}"
            time.sleep(2)
            received = {item["idempotency_key"] for item in backend.get("/api/v1/events")}
    finally:
        stop(procs)
        backend.stop()
    assert Spool(spool, 64 * 1024 * 1024).status().pending_events == 0
    with sqlite3.connect(os.path.join(env["AIRFLOW_HOME"], "airflow.db")) as db:
        assert db.execute("SELECT count(*) FROM task_instance").fetchone()[0] == 0  # no task ran
