"""A real deployment: scheduler and executor (and on Airflow 3 the API server and DAG processor).

`airflow dags test` fires no DAG-run listener; here the scheduler does, and every task try runs in
its own process, as in production. The legacy rows already run that way (a backfill job).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_dag_definitions import sync_metadata
from tests.support.airflow_home import GOLDEN, fresh_home, row_env, task_lines
from tests.support.deployment import beside_scheduler, trigger_and_collect
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess
from tests.support.skips import not_composer_row, runs_dags_test

pytestmark = [runs_dags_test, not_composer_row]


def free_port() -> int:
    return int(refused_url().rsplit(":", 1)[1])


def test_a_scheduled_deployment_reports_dag_runs_and_every_try(migrated_home: str, tmp_path: Path) -> None:
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
    components = [["scheduler"], *beside_scheduler(str(port))]
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
