"""End-to-end tests: real airflow CLI processes and a real mock-backend process."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow", reason="tests/e2e needs Airflow: run them through tox (make test)")


@pytest.fixture(scope="session")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Airflow home with a migrated SQLite database, made once per session; copy it (fresh_home)."""
    from tests.support.airflow_home import init_db, row_env
    from tests.support.fault_server import refused_url

    home = str(tmp_path_factory.mktemp("airflow-home"))
    init_db(row_env(home, refused_url()))
    return home
