"""A connection's password and a password inside SQL reach no dataset name, facet, spool or log."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest

from alvin_integration.emitter import Emitter
from alvin_integration.producers.airflow import report
from alvin_integration.producers.airflow.extract import task_lineage
from tests.support.events import settings_for
from tests.support.fault_server import refused_url

CONN_PASSWORD = "Conn-Pa55word-x9"
SQL_PASSWORD = "Sql-Pa55word-y8"


@pytest.fixture
def emitter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emitter]:
    monkeypatch.setenv("AIRFLOW_CONN_SECRET_DB", f"postgres://etl:{CONN_PASSWORD}@db.internal:5432/warehouse")
    task_lineage._sources.clear()
    real = Emitter(settings_for(refused_url(), str(tmp_path / "spool"), ALVIN_SQL_START_WAIT_MS="60000"))
    monkeypatch.setattr(report, "get_emitter", lambda: real)
    monkeypatch.setattr(report, "flush", lambda timeout: True)
    monkeypatch.setattr(report, "flush_at_exit", lambda: None)
    yield real
    real.close(timeout=1)
    task_lineage._sources.clear()


def test_no_password_reaches_a_dataset_a_facet_the_spool_or_a_log(
    emitter: Emitter, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sql = [
        f"ALTER USER etl WITH PASSWORD '{SQL_PASSWORD}'",
        "INSERT INTO mart.orders SELECT * FROM raw.orders",
    ]
    task = SimpleNamespace(sql=sql, conn_id="secret_db", inlets=[], outlets=[])
    ti: Any = SimpleNamespace(
        dag_id="dag",
        task_id="task",
        run_id="manual__1",
        map_index=-1,
        try_number=1,
        task=task,
        state="running",
    )
    with caplog.at_level(logging.DEBUG):
        report.report_task(report.START, ti, 1, "running")
    spooled = b"".join(path.read_bytes() for path in (tmp_path / "spool").rglob("*") if path.is_file())
    assert b"warehouse.mart.orders" in spooled and b"postgres://db.internal:5432" in spooled  # named
    for secret in (CONN_PASSWORD, SQL_PASSWORD):
        assert secret.encode() not in spooled
        assert secret not in caplog.text
