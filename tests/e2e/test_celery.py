"""Production-shaped: the compose file's own infrastructure, on this machine's services.

The scheduler and a Celery worker (on Airflow 3 also the API server and the DAG processor) run as
real processes, with the compose file's environment, on a PostgreSQL database of the test's own and
a Celery queue of its own on the machine's Redis. Each task try is forked by the Celery worker.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

from alvin_integration.producers.airflow import version_compat
from alvin_integration.spool import Spool
from tests.support.airflow_home import EXPECTED_STATES, GOLDEN, ROW, task_lines
from tests.support.api_waits import assert_a_hung_api_held_up_no_host_process, watched
from tests.support.celery_deployment import (
    COMPOSE,
    TEST_DAGS,
    components,
    migrated,
    migrated_template,
    trigger,
    wait_for,
    wait_for_manual_run,
)
from tests.support.compose import compose
from tests.support.deployment import start, stop, trigger_and_collect, triggerer
from tests.support.fault_server import FaultServer, refused_url
from tests.support.processes import MockBackendProcess, alvin_env, run_cli
from tests.support.services import postgres_database, query
from tests.support.skips import kills_celery_processes, runs_celery

pytestmark = [runs_celery]
TERMINAL = {"success": "COMPLETE", "skipped": "COMPLETE", "failed": "FAIL"}


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[MockBackendProcess]:
    server = MockBackendProcess(str(tmp_path / "alvin.db"), api_key="local-dev-api-key")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[str, str]]:
    """The migrated database and the Celery queue its serialized DAGs name."""
    with migrated_template(tmp_path_factory.mktemp("template")) as found:
        yield found


@pytest.fixture
def database(template: Tuple[str, str]) -> Iterator[str]:
    """A database of the test's own, a copy of the migrated template."""
    with postgres_database(template=template[0]) as url:
        yield url


@pytest.fixture
def queue(template: Tuple[str, str]) -> str:
    """The template's Celery queue, which the copied database's DAGs send their tasks to."""
    return template[1]


@pytest.fixture
def env(tmp_path: Path, database: str, queue: str) -> Dict[str, str]:
    """The deployment's environment with the API refusing connections (as during an outage)."""
    return migrated(
        tmp_path, database, init=False, queue=queue, backend_url=refused_url(), ALVIN_FLUSH_TIMEOUT="1"
    )


def _tries(events: List[Dict[str, Any]], dag_id: str) -> Set[Tuple[str, int, str]]:
    """(task, try, event type) of the task events of ``dag_id`` received."""
    found = set()
    for item in events:
        details = item["event"]["run"]["facets"]["alvin"]
        if "task_id" in details and details["dag_id"] == dag_id:
            found.add((details["task_id"], details["try_number"], item["event"]["eventType"]))
    return found


def test_a_celery_deployment_on_postgres_reports_as_the_golden_file_says(
    tmp_path: Path, backend: MockBackendProcess, database: str, queue: str
) -> None:
    services = compose(COMPOSE)["services"]
    backend_service = services["alvin_backend"]
    assert backend_service["entrypoint"] == ["alvin-integration"]
    command = backend_service["command"]
    assert command[0] == "mock-backend"  # the same command, on a free loopback port
    assert all(str(port).startswith("127.0.0.1:") for port in backend_service["ports"])  # this machine only
    assert (
        command[command.index("--api-key") + 1] == "local-dev-api-key"
    )  # the key the backend fixture checks
    env = migrated(tmp_path, database, init=False, queue=queue, backend_url=backend.url)
    assert env["ALVIN_URL"] == backend.url and env["ALVIN_API_KEY"] == "local-dev-api-key"
    golden = json.loads(GOLDEN.read_text())
    of_run = trigger_and_collect(env, components(env), backend, tmp_path, task_events=len(golden))
    dag_events = [e["event"]["eventType"] for e in of_run if e["event"]["job"]["name"] == "alvin_example"]
    assert dag_events == ["START", "FAIL"]
    assert task_lines(of_run) == golden


def test_with_the_api_hung_only_task_processes_wait_for_it(tmp_path: Path, database: str, queue: str) -> None:
    """The scheduler (1.10: its DAG processors), the worker and the triggerer never wait for an API
    that accepts and never answers; a try's end waits its bounded budget, until the machine knows."""
    hung = FaultServer(default="hang")
    audit = tmp_path / "audit.jsonl"
    env = migrated(
        tmp_path, database, init=False, queue=queue, backend_url=hung.url, ALVIN_HTTP_TIMEOUT="600"
    )
    env = watched(env, audit, hung.port)
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in components(env) + triggerer()]
    try:
        trigger(env, "alvin_example")
        wait_for_manual_run(database, "alvin_example", procs, tmp_path)
    finally:
        stop(procs)
        hung.close()
    assert_a_hung_api_held_up_no_host_process(audit, [p.pid for p in procs])


@kills_celery_processes
def test_reconcile_rebuilds_a_lost_spool_from_the_metadata_database_once(
    tmp_path: Path, backend: MockBackendProcess, env: Dict[str, str], database: str
) -> None:
    """The API refuses while the DAG runs; the spool is then lost; reconcile recovers every try."""
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in components(env)]
    try:
        trigger(env, "alvin_example")
        wait_for_manual_run(database, "alvin_example", procs, tmp_path)
    finally:
        stop(procs)
    lost = str(tmp_path / "lost-spool")
    shutil.move(os.path.join(env["AIRFLOW_HOME"], "alvin", "spool"), lost)  # the default spool
    env["ALVIN_URL"] = backend.url

    first = run_cli(env, "reconcile", "--since", "1d", "--dag-id", "alvin_example", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    print("first reconcile:", first.stdout.splitlines()[0])
    events = backend.get("/api/v1/events")
    tries = _tries(events, "alvin_example")
    for task, state in EXPECTED_STATES.items():
        assert any(t == task and kind == TERMINAL[state] for t, _, kind in tries), (task, sorted(tries))
    if version_compat.AIRFLOW_V_2_10_PLUS:  # earlier tries: TaskInstanceHistory
        assert ("flaky", 1, "FAIL") in tries and ("flaky", 2, "COMPLETE") in tries, sorted(tries)
    manual = [
        i["event"]["eventType"]
        for i in events
        if i["event"]["job"]["name"] == "alvin_example"
        and str(i["event"]["run"]["facets"]["alvin"]["run_id"]).startswith("manual")
    ]
    assert manual == ["START", "FAIL"]

    second = run_cli(env, "reconcile", "--since", "1d", "--dag-id", "alvin_example", timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    print("second reconcile:", second.stdout.splitlines()[0])
    assert f"{len(events)} already delivered, 0 waiting in the spool, 0 spooled now" in second.stdout
    assert len(backend.get("/api/v1/events")) == len(events)

    # The lost spool turns up and is delivered: its START and end events carry the rebuilt ids.
    late = run_cli(alvin_env(backend.url, lost, ALVIN_API_KEY=env["ALVIN_API_KEY"]), "spool", "flush")
    assert late.returncode == 0, late.stderr
    after = _tries(backend.get("/api/v1/events"), "alvin_example")
    covered = {(task, number) for task, number, _ in tries}  # before 2.10: only each task's last try
    assert {t for t in after - tries if t[2] != "RUNNING" and t[:2] in covered} == set()


@kills_celery_processes
def test_a_task_process_killed_with_sigkill_still_reports_its_failure(
    tmp_path: Path, backend: MockBackendProcess, database: str, queue: str
) -> None:
    pid_file = str(tmp_path / "killed.pid")
    env = migrated(
        tmp_path,
        database,
        init=False,
        queue=queue,
        backend_url=backend.url,
        AIRFLOW__CORE__DAGS_FOLDER=TEST_DAGS,
        ALVIN_KILLED_PID_FILE=pid_file,
    )
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in components(env)]
    path = "not yet"
    try:
        trigger(env, "alvin_killed")
        wait_for(
            lambda: os.path.exists(pid_file) and Path(pid_file).read_text().strip(),
            "the task's start",
            procs,
            tmp_path,
        )
        os.kill(int(Path(pid_file).read_text()), signal.SIGKILL)
        state = "SELECT state FROM task_instance WHERE dag_id = 'alvin_killed'"
        wait_for(
            lambda: [r for r in query(database, state) if r[0] in ("failed", "up_for_retry")],
            "the try's failure",
            procs,
            tmp_path,
        )

        def failure_reported() -> bool:
            return ("killed", 1, "FAIL") in _tries(backend.get("/api/v1/events"), "alvin_killed")

        # Airflow 3's supervisor marks the try failed through the API server: no process of ours
        # sees it, and reconcile is the path at once
        seconds = 0 if version_compat.AIRFLOW_V_3_0_PLUS else 60
        try:
            wait_for(failure_reported, "the FAIL from Airflow's failure handling", procs, tmp_path, seconds)
            path = "Airflow's failure handling (our listener, in the process that handled it)"
        except AssertionError:
            result = run_cli(env, "reconcile", "--since", "1h", "--dag-id", "alvin_killed", timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            assert failure_reported(), result.stdout
            path = "alvin-integration reconcile"
    finally:
        stop(procs)
        print(f"{ROW['env']}: the killed try's FAIL came from {path}")
    fail = next(
        i["event"]
        for i in backend.get("/api/v1/events")
        if i["event"]["job"]["name"] == "alvin_killed.killed" and i["event"]["eventType"] == "FAIL"
    )
    assert fail["run"]["facets"]["alvin"]["state"] == "failed"


@kills_celery_processes
def test_a_celery_worker_killed_with_its_events_spooled_has_them_delivered_after_its_restart(
    tmp_path: Path, backend: MockBackendProcess, env: Dict[str, str], database: str
) -> None:
    """The worker has a spool of its own (its own machine); the API is down while it runs tasks."""
    worker_spool = str(tmp_path / "worker-spool")
    worker_args = components(env)[1]
    others = [args for args in components(env) if args != worker_args]
    procs = [start(env, args, tmp_path / f"{args[0]}.log") for args in others]
    worker = start({**env, "ALVIN_SPOOL_DIR": worker_spool}, worker_args, tmp_path / "worker-1.log")
    try:
        trigger(env, "alvin_example")
        wait_for_manual_run(database, "alvin_example", [*procs, worker], tmp_path)
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and every process it forked
        worker.wait(timeout=30)
        spooled = Spool(worker_spool, 1 << 30).pending_ids()
        assert spooled, "the task processes spooled nothing while the API was down"
        restarted = {**env, "ALVIN_SPOOL_DIR": worker_spool, "ALVIN_URL": backend.url}
        worker = start(restarted, worker_args, tmp_path / "worker-2.log")
        trigger(env, "alvin_example")  # the restarted worker's first task delivers the backlog
        wait_for(
            lambda: spooled <= set(backend.keys()), "the delivery of the backlog", [*procs, worker], tmp_path
        )
        # the restarted worker goes on running tasks; what they spool is pending until delivered, so
        # the spool is polled, not read once: with the API healthy, it drains
        wait_for(
            lambda: not Spool(worker_spool, 1 << 30).pending_ids() - set(backend.keys()),
            "the worker's spool to drain",
            [*procs, worker],
            tmp_path,
        )
    finally:
        stop([*procs, worker])
