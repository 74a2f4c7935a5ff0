"""The Docker workflow without Docker: the processes a compose file describes, with its env block
and its commands, run here (no Docker engine on these machines).

Only what needs Docker's network and services is swapped: postgres/redis/Celery for SQLite and the
executor Airflow picks for it, the `alvin_backend` host name for loopback and a free port. The
compose file's own infrastructure runs in test_celery.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.airflow_home import GOLDEN, airflow_env, fresh_home, task_lines
from tests.support.compose import compose, services_env
from tests.support.deployment import trigger_and_collect
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess
from tests.support.skips import has_compose_file, not_af110_scheduler

pytestmark = [has_compose_file, not_af110_scheduler]


def test_the_compose_deployment_reports_dag_runs_and_every_try(migrated_home: str, tmp_path: Path) -> None:
    spec = compose()
    common = spec["x-airflow-common"]
    services = spec["services"]
    backend_service = services["alvin_backend"]
    assert backend_service["entrypoint"] == ["alvin-integration"]
    command = backend_service["command"]
    assert command[0] == "mock-backend"  # the same command, on a free loopback port
    assert all(str(port).startswith("127.0.0.1:") for port in backend_service["ports"])  # this machine only
    api_key = command[command.index("--api-key") + 1]  # it checks the key the services send
    assert api_key == common["environment"]["ALVIN_API_KEY"]
    backend = MockBackendProcess(str(tmp_path / "alvin.db"), api_key=api_key)
    try:
        home = fresh_home(migrated_home, tmp_path / "home")
        # the infrastructure stays SQLite and the executor Airflow picks for it (test_celery.py runs
        # the compose file's own: Celery, Redis, Postgres)
        env = services_env(airflow_env(home, refused_url()), spec, backend.url, infrastructure={})
        assert env["ALVIN_URL"] == backend.url and env["ALVIN_API_KEY"] and env["ALVIN_PLATFORM_ID"]
        scheduler = str(services["airflow-scheduler"]["command"]).split()
        golden = json.loads(GOLDEN.read_text())
        of_run = trigger_and_collect(env, [scheduler], backend, tmp_path, task_events=len(golden))
        dag_events = [e["event"]["eventType"] for e in of_run if e["event"]["job"]["name"] == "alvin_example"]
        assert dag_events == ["START", "FAIL"]
        assert task_lines(of_run) == golden
    finally:
        backend.stop()
