"""The compose file's Celery deployment as real processes on this machine's Postgres and Redis.

Used by tests/e2e/test_celery.py and the soak (tests/e2e/test_soak.py, benchmarks/soak.py).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import ROW, init_db, row_env, run_airflow
from tests.support.compose import compose, services_env
from tests.support.deployment import WAIT_SECONDS, beside_scheduler, trigger_when_parsed
from tests.support.fault_server import refused_url
from tests.support.services import POSTGRES, REDIS, celery_queue, postgres_database, reachable, redis_url

# Airflow 1.10's compose file; every Airflow 2 and 3 row runs the airflow2 one (its commands are
# Airflow 2's and 3's alike: `scheduler`, `celery worker`)
COMPOSE = "airflow1" if ROW["env"] == "af110" else "airflow2"
TEST_DAGS = str(Path(__file__).resolve().parents[1] / "e2e" / "dags")


def free_port() -> int:
    """A loopback port nothing listens on now."""
    return int(refused_url().rsplit(":", 1)[1])


def celery_env(home: str, database: str, backend_url: str, queue: Optional[str] = None) -> Dict[str, str]:
    """The compose file's environment on this machine's Postgres and Redis, on ``queue`` (default: a
    new one). A database copied from a template keeps the template's queue: its serialized DAGs
    name it, and a run triggered before the DAG is parsed again sends its tasks there."""
    assert reachable(POSTGRES), f"PostgreSQL is not running at {POSTGRES}: these machines start it"
    assert reachable(REDIS), f"Redis is not running at {REDIS}: these machines start it"
    spec = compose(COMPOSE)
    infrastructure = {
        "AIRFLOW__CORE__EXECUTOR": spec["x-airflow-common"]["environment"]["AIRFLOW__CORE__EXECUTOR"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CORE__SQL_ALCHEMY_CONN": database,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + database,
        "AIRFLOW__CELERY__BROKER_URL": redis_url(),
    }
    assert infrastructure["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    env = services_env(row_env(home, backend_url), spec, backend_url, infrastructure, COMPOSE)
    port, log_port = free_port(), str(free_port())
    queue = queue or celery_queue()
    env.update(
        # this test's own: a queue (Airflow's default, the only one its worker consumes), ports, pace;
        # 1.10 names the queue and the worker's log port under [celery]
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        AIRFLOW__CELERY__DEFAULT_QUEUE=queue,
        AIRFLOW__CELERY__WORKER_CONCURRENCY="4",
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=log_port,
        AIRFLOW__CELERY__WORKER_LOG_SERVER_PORT=log_port,
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://127.0.0.1:{port}/execution/",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        # a task whose process died is found within seconds (2.x names, then 3.x names)
        AIRFLOW__SCHEDULER__SCHEDULER_ZOMBIE_TASK_THRESHOLD="20",
        AIRFLOW__SCHEDULER__ZOMBIE_DETECTION_INTERVAL="5",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT="20",
        AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL="5",
    )
    return env


def components(env: Dict[str, str]) -> List[List[str]]:
    """The compose file's scheduler and worker commands (and Airflow 3's API server, DAG processor)."""
    services = compose(COMPOSE)["services"]
    found = [str(services[name]["command"]).split() for name in ("airflow-scheduler", "airflow-worker")]
    return found + beside_scheduler(env["AIRFLOW__API__PORT"])


def migrated(
    tmp_path: Path,
    database: str,
    backend_url: str,
    init: bool = True,
    queue: Optional[str] = None,
    **extra: str,
) -> Dict[str, str]:
    """A new Airflow home on ``database`` with the compose file's environment; ``init``: migrate it
    (a database copied from ``migrated_template`` already is: pass its queue)."""
    home = str(tmp_path / "home")
    os.makedirs(home, exist_ok=True)
    env = {**celery_env(home, database, backend_url, queue), **extra}
    if init:
        init_db(env)
    return env


@contextlib.contextmanager
def migrated_template(work: Path) -> Iterator[Tuple[str, str]]:
    """A migrated metadata database to copy (``postgres_database(template=...)``), and the Celery
    queue its DAGs name: one migration per test module instead of one per test."""
    with postgres_database("alvin_template") as url:
        env = migrated(work, url, refused_url())
        yield url, env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]


def trigger(env: Dict[str, str], dag_id: str) -> None:
    """Trigger and unpause ``dag_id`` once the components know it."""
    legacy = not version_compat.AIRFLOW_V_2_PLUS
    trigger = ["trigger_dag", dag_id] if legacy else ["dags", "trigger", dag_id]
    result = trigger_when_parsed(env, trigger)
    assert result.returncode == 0, result.stderr[-2000:]
    assert run_airflow(env, *(["unpause", dag_id] if legacy else ["dags", "unpause", dag_id])).returncode == 0


def wait_for(condition: Any, what: str, procs: List[Any], logs: Path, seconds: float = WAIT_SECONDS) -> Any:
    """Poll ``condition`` until it is true (returned), a component dies or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), f"an Airflow component died; see {logs}"
        found = condition()
        if found:
            return found
        time.sleep(2)
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s; see {logs}")


def wait_for_manual_run(database: str, dag_id: str, procs: List[Any], logs: Path) -> None:
    """Wait until the triggered run of ``dag_id`` has ended (its state in the metadata database)."""
    from tests.support.services import query

    ended = f"SELECT state FROM dag_run WHERE dag_id = '{dag_id}' AND run_id LIKE 'manual%%'"
    wait_for(
        lambda: [r for r in query(database, ended) if r[0] in ("success", "failed")], "the run", procs, logs
    )
