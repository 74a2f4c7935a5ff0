"""Production-shaped: the compose file's own infrastructure, on this machine's services.

The scheduler and a Celery worker (on Airflow 3 also the API server and the DAG processor) run as
real processes, with the compose file's environment, on a PostgreSQL database of the test's own and
a Celery queue of its own on the machine's Redis. Each task try is forked by the Celery worker.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.support.airflow_home import GOLDEN, ROW, airflow_env, init_db, task_lines
from tests.support.compose import compose, services_env
from tests.support.deployment import trigger_and_collect
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess
from tests.support.services import POSTGRES, REDIS, celery_queue, postgres_database, reachable, redis_url
from tests.support.skips import runs_celery

pytestmark = [runs_celery]


def free_port() -> int:
    return int(refused_url().rsplit(":", 1)[1])


def celery_env(home: str, database: str, backend_url: str) -> Dict[str, str]:
    """The compose file's environment on this machine's Postgres and Redis, a queue of this test's."""
    assert reachable(POSTGRES), f"PostgreSQL is not running at {POSTGRES}: these machines start it"
    assert reachable(REDIS), f"Redis is not running at {REDIS}: these machines start it"
    spec = compose("airflow2")
    infrastructure = {
        "AIRFLOW__CORE__EXECUTOR": spec["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CORE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
        "AIRFLOW__CELERY__BROKER_URL": redis_url(),
    }
    assert infrastructure["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    env = services_env(airflow_env(home, backend_url), spec, backend_url, infrastructure, "airflow2")
    port = free_port()
    env.update(
        # this test's own: a queue (Airflow's default, the only one its worker consumes), ports, pace
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=celery_queue(),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="4",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
    )
    return env


def components(env: Dict[str, str]) -> List[List[str]]:
    """The compose file's scheduler and worker commands (and Airflow 3's API server, DAG processor)."""
    services = compose("airflow2")["services"]
    found = [str(services[name]["command"]).split() for name in ("airflow-scheduler", "airflow-worker")]
    if ROW["airflow"].startswith("3."):
        found += [["api-server", "--port", env["AIRFLOW__API__PORT"]], ["dag-processor"]]
    return found


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[MockBackendProcess]:
    server = MockBackendProcess(str(tmp_path / "alvin.db"), api_key="local-dev-api-key")
    yield server
    server.stop()


def test_a_celery_deployment_on_postgres_reports_as_the_golden_file_says(
    tmp_path: Path, backend: MockBackendProcess
) -> None:
    with postgres_database() as database:
        home = str(tmp_path / "home")
        os.makedirs(home)
        env = celery_env(home, database, backend.url)
        init_db(env)
        golden = json.loads(GOLDEN.read_text())
        of_run = trigger_and_collect(env, components(env), backend, tmp_path, task_events=len(golden))
        dag_events = [e["event"]["eventType"] for e in of_run if e["event"]["job"]["name"] == "alvin_example"]
        assert dag_events == ["START", "FAIL"]
        assert task_lines(of_run) == golden
