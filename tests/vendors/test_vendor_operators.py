"""The google and snowflake providers' real operators and hooks: lineage with no call to a vendor.

Runs in the ``vendors`` tox environment (the af2 row's Airflow with both providers). The DAG
(tests/vendors/dags) runs in a real ``airflow dags test`` process against the mock API; its
connections point nowhere, so every task fails before it could reach Google or Snowflake.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest

pytest.importorskip("airflow.providers.google.cloud.operators.bigquery", reason="the google provider")
pytest.importorskip("airflow.providers.snowflake.hooks.snowflake", reason="the snowflake provider")

from alvin_integration.producers.airflow.extract import task_lineage
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.read import read_task_try
from tests.support.airflow_home import RUN_DATE, airflow_env, init_db, run_airflow
from tests.support.processes import MockBackendProcess, alvin_env, run_cli

DAGS = str(Path(__file__).parent / "dags")
PASSWORD = "sf-Secret-9f3a"
CONNECTIONS = {
    "AIRFLOW_CONN_ALVIN_BIGQUERY": json.dumps(
        {
            "conn_type": "google_cloud_platform",
            "extra": {"project": "conn-project", "key_path": "/nonexistent/alvin-key.json"},
        }
    ),
    "AIRFLOW_CONN_ALVIN_SNOWFLAKE": json.dumps(
        {
            "conn_type": "snowflake",
            "login": "loader",
            "password": PASSWORD,
            "schema": "PUBLIC",
            "extra": {
                "account": "xy12345",
                "database": "ANALYTICS",
                "warehouse": "LOADING",
                "private_key_file": "/nonexistent/alvin-key.p8",
            },
        }
    ),
}
Ran = Tuple[List[Dict[str, Any]], str, str]  # events, the run's output, what the spool holds


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """One ``dags test`` of the vendors DAG, the API up; every task fails on its missing key file."""
    work = tmp_path_factory.mktemp("vendors")
    backend = MockBackendProcess(str(work / "alvin.db"))
    try:
        home = str(work / "home")
        os.makedirs(home)
        env = {**airflow_env(home, backend.url), **CONNECTIONS, "AIRFLOW__CORE__DAGS_FOLDER": DAGS}
        init_db(env)
        result = run_airflow(env, "dags", "test", "alvin_vendors", RUN_DATE)
        spool = alvin_env(backend.url, os.path.join(home, "spool"))
        spooled = "".join(
            p.read_text(errors="replace") for p in Path(home, "spool").rglob("*") if p.is_file()
        )
        run_cli(spool, "spool", "flush")
        logs = "".join(p.read_text(errors="replace") for p in Path(home, "logs").rglob("*.log"))
        yield backend.get("/api/v1/events"), result.stdout + result.stderr + logs, spooled
    finally:
        backend.stop()


def _event(ran: Ran, task: str, kind: str) -> Dict[str, Any]:
    matches = [
        item["event"]
        for item in ran[0]
        if item["event"]["job"]["name"] == f"alvin_vendors.{task}" and item["event"]["eventType"] == kind
    ]
    assert matches, f"no {kind} of {task}: {[i['event']['job']['name'] for i in ran[0]]}\n{ran[1][-3000:]}"
    return matches[0]


def _names(event: Dict[str, Any], side: str) -> List[Tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in event[side]]


def test_a_bigquery_job_names_its_tables_on_start_and_its_job_id_on_fail(ran: Ran) -> None:
    start = _event(ran, "bigquery_job", "START")
    assert _names(start, "inputs") == [("bigquery", "job-project.raw.orders")]
    assert _names(start, "outputs") == [("bigquery", "job-project.sales.daily")]
    fail = _event(ran, "bigquery_job", "FAIL")
    assert _names(fail, "outputs") == [("bigquery", "job-project.sales.daily")]
    job_id = fail["run"]["facets"]["alvin"]["bigquery_job_id"]  # set by the operator before it failed
    assert job_id.startswith("airflow_alvin_vendors_bigquery_job_")
    assert fail["run"]["facets"]["externalQuery"]["externalQueryId"] == job_id
    assert fail["run"]["facets"]["externalQuery"]["source"] == "bigquery"
    columns = fail["outputs"][0]["facets"]["columnLineage"]["fields"]
    assert [(f["name"], f["field"]) for f in columns["total"]["inputFields"]] == [
        ("job-project.raw.orders", "amount")
    ]


def test_a_bigquery_job_without_a_project_takes_the_connections(ran: Ran) -> None:
    start = _event(ran, "bigquery_job_connection_project", "START")
    assert _names(start, "inputs") == [("bigquery", "conn-project.raw.customers")]
    assert _event(ran, "bigquery_job_connection_project", "FAIL")


def test_a_snowflake_query_names_its_tables_in_the_accounts_namespace(ran: Ran) -> None:
    start = _event(ran, "snowflake_query", "START")
    assert _names(start, "inputs") == [("snowflake://xy12345", "ANALYTICS.RAW.ORDERS")]
    assert _names(start, "outputs") == [("snowflake://xy12345", "ANALYTICS.MARTS.ORDERS")]
    fail = _event(ran, "snowflake_query", "FAIL")
    assert "private_key_file" in fail["run"]["facets"]["errorMessage"]["message"]  # the key, not Snowflake


def test_the_connection_password_reaches_no_event_spool_or_log_line_of_ours(ran: Ran) -> None:
    events, output, spooled = ran
    assert PASSWORD not in json.dumps(events)
    assert PASSWORD not in spooled
    ours = [line for line in output.splitlines() if "alvin" in line.lower()]
    assert not [line for line in ours if PASSWORD in line]


def test_snowflake_query_ids_are_read_from_the_hook_the_operator_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

    for name, value in CONNECTIONS.items():
        monkeypatch.setenv(name, value)
    task_lineage._sources.clear()
    operator = SQLExecuteQueryOperator(task_id="q", conn_id="alvin_snowflake", sql="SELECT 1")
    ti = SimpleNamespace(task=operator, dag_id="d", task_id="q", run_id="r", map_index=-1)
    assert read_task_try(ti, 1, "running").external_ids == {}  # no hook made yet: none made by us
    hook = operator.get_db_hook()  # what execute does first: the real SnowflakeHook, not connected
    assert type(hook).__name__ == "SnowflakeHook"
    hook.query_ids.extend(["01b2c3d4-0000-q1", "01b2c3d4-0000-q2"])  # as SnowflakeHook.run records them
    end = read_task_try(ti, 1, "success")
    assert end.external_ids["query_ids"] == ["01b2c3d4-0000-q1", "01b2c3d4-0000-q2"]
    query = lineage_of(end, at_end=True).run_facets["externalQuery"].to_dict()
    assert (query["externalQueryId"], query["source"]) == ("01b2c3d4-0000-q1", "snowflake")
    task_lineage._sources.clear()
