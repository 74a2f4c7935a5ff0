"""A compose file's Airflow services as processes on this machine (there is no Docker engine here).

The services' environment block and commands are taken as written; only what needs Docker's
network is mapped: the `alvin_backend` host to a loopback URL, and the infrastructure settings
(database, broker, executor) to what the test provides.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import pytest

from tests.support.matrix import REPO

INFRASTRUCTURE = ("SQL_ALCHEMY_CONN", "CELERY", "EXECUTOR")
COMPOSE_BACKEND_URL = "http://alvin_backend:9000"
# the tests' own, kept: the example's retry marker, and STARTs that wait for their SQL's tables
# however loaded the machine is (the golden files hold them; a user's START waits 5 ms)
TEST_SETTINGS = ("ALVIN_EXAMPLE_RETRY_MARKER", "ALVIN_SQL_START_WAIT_MS")


def compose(directory: str) -> Dict[str, Any]:
    """The parsed ``docker/<directory>/docker-compose.yaml``."""
    yaml = pytest.importorskip("yaml", reason="reading the compose file needs PyYAML (Airflow brings it)")
    path = Path(REPO) / "docker" / directory / "docker-compose.yaml"
    return dict(yaml.safe_load(path.read_text()))


def services_env(
    env: Dict[str, str],
    spec: Dict[str, Any],
    backend_url: str,
    infrastructure: Dict[str, str],
    directory: str,
) -> Dict[str, str]:
    """``env`` with the compose file's settings in place of the test's own.

    Our settings and the example's connections come from the compose file only; an infrastructure
    setting (database, Celery, executor) is taken from ``infrastructure`` when named there, else
    left to ``env``. The DAGs folder is the compose file's volume.
    """
    common = spec["x-airflow-common"]
    env = {
        name: value
        for name, value in env.items()
        if not name.startswith(("ALVIN_", "AIRFLOW_CONN_")) or name in TEST_SETTINGS
    }
    for name, value in common["environment"].items():
        if not any(part in name for part in INFRASTRUCTURE):
            env[name] = str(value).replace(COMPOSE_BACKEND_URL, backend_url)
    env.update(infrastructure)
    dags_volume = next(v for v in common["volumes"] if v.split(":")[1] == "/opt/airflow/dags")
    env["AIRFLOW__CORE__DAGS_FOLDER"] = os.path.normpath(
        os.path.join(str(REPO), "docker", directory, dags_volume.split(":")[0])
    )
    return env
