"""Issue 25's everyday operators in one real ``airflow dags test``: every dataset, none invented.

The DAG (tests/vendors/dags/alvin_transfers.py) runs against the mock API; its connections point
nowhere (a missing key file, closed ports of 127.0.0.1), so each task fails as its ``execute``
starts. Its START and its FAIL must both carry exactly the datasets below: written out by hand from
the task's arguments and OpenLineage's naming (Naming.md), not computed by our code. Runs in the
``vendors`` (Airflow 2) and ``vendors3`` (Airflow 3) tox environments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Tuple

import pytest

pytest.importorskip("airflow.providers.google.cloud.transfers.gcs_to_bigquery", reason="the google provider")
pytest.importorskip("airflow.providers.amazon.aws.transfers.s3_to_redshift", reason="the amazon provider")
pytest.importorskip(
    "airflow.providers.snowflake.transfers.copy_into_snowflake", reason="the snowflake provider"
)
pytest.importorskip("airflow.providers.postgres.hooks.postgres", reason="the postgres provider")

from tests.support.airflow_home import RUN_DATE, airflow_env, init_db, run_airflow
from tests.support.processes import MockBackendProcess
from tests.support.skips import needs_sql_extra

DAGS = str(Path(__file__).parent / "dags")
DAG_ID = "alvin_transfers"
CONNECTIONS = {
    "AIRFLOW_CONN_ALVIN_GCP": json.dumps(
        {
            "conn_type": "google_cloud_platform",
            "extra": {"project": "acme-prod", "key_path": "/nonexistent/alvin-key.json"},
        }
    ),
    # 5432 may be a real server on the machine: 5999 is closed
    "AIRFLOW_CONN_ALVIN_PG": json.dumps(
        {
            "conn_type": "postgres",
            "host": "127.0.0.1",
            "port": 5999,
            "schema": "shop",
            "login": "reader",
            "password": "pg-Secret-1",
            "extra": {"connect_timeout": 2},
        }
    ),
    "AIRFLOW_CONN_ALVIN_REDSHIFT": json.dumps(
        {
            "conn_type": "redshift",
            "host": "127.0.0.1",
            "port": 5439,
            "schema": "warehouse",
            "login": "loader",
            "password": "rs-Secret-1",
            "extra": {"cluster_identifier": "acme-warehouse", "region": "eu-west-1", "timeout": 2},
        }
    ),
    # boto3 against a closed port: one attempt, 1 s timeouts
    "AIRFLOW_CONN_ALVIN_AWS": json.dumps(
        {
            "conn_type": "aws",
            "login": "AKIAALVINEXAMPLE0000",
            "password": "aws-Secret-1",
            "extra": {
                "region_name": "eu-west-1",
                "endpoint_url": "http://127.0.0.1:9",
                "config_kwargs": {
                    "connect_timeout": 1,
                    "read_timeout": 1,
                    "retries": {"max_attempts": 1, "mode": "standard"},
                },
            },
        }
    ),
    "AIRFLOW_CONN_ALVIN_SNOWFLAKE": json.dumps(
        {
            "conn_type": "snowflake",
            "login": "loader",
            "password": "sf-Secret-1",
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

BQ = "bigquery"
PG = "postgres://127.0.0.1:5999"  # host:port of the connection; database.schema.table
REDSHIFT = "redshift://acme-warehouse.eu-west-1:5439"  # cluster.region:port
ATHENA = "awsathena://athena.eu-west-1.amazonaws.com"
DAY = RUN_DATE  # what {{ ds }} renders to
Pairs = Set[Tuple[str, str]]
# task id -> (inputs, outputs), on START and on FAIL alike
EXPECTED: Dict[str, Tuple[Pairs, Pairs]] = {
    # a wildcard object is named by its directory, as the OpenLineage providers name it
    "gcs_to_bigquery": ({("gs://acme-landing", f"orders/{DAY}")}, {(BQ, "acme-prod.sales.orders")}),
    "bigquery_to_gcs": ({(BQ, "acme-prod.sales.orders")}, {("gs://acme-exports", f"orders/{DAY}")}),
    "gcs_to_gcs": (
        {("gs://acme-landing", f"orders/{DAY}/orders.csv")},
        {("gs://acme-archive", f"orders/{DAY}/orders.csv")},
    ),
    "bigquery_to_bigquery": ({(BQ, "acme-prod.sales.orders")}, {(BQ, "acme-prod.backup.orders")}),
    "bigquery_query": ({(BQ, "acme-prod.sales.orders")}, {(BQ, "acme-prod.marts.daily_revenue")}),
    # its SQL runs on Postgres: no BigQuery table; files part-0.json, part-1.json... in a directory
    "postgres_to_gcs": ({(PG, "shop.raw.customers")}, {("gs://acme-exports", f"customers/{DAY}")}),
    "postgres_insert": (
        {(PG, "shop.raw.customers"), (PG, "shop.raw.orders")},
        {(PG, "shop.marts.customer_orders")},
    ),
    "column_check": ({(PG, "shop.marts.customer_orders")}, set()),
    "table_check": ({(PG, "shop.raw.orders")}, set()),
    "s3_copy": (
        {("s3://acme-landing", f"events/{DAY}/events.json")},
        {("s3://acme-archive", f"events/{DAY}/events.json")},
    ),
    "s3_to_redshift": ({("s3://acme-landing", f"events/{DAY}")}, {(REDSHIFT, "warehouse.raw.events")}),
    "redshift_to_s3": ({(REDSHIFT, "warehouse.marts.sessions")}, {("s3://acme-exports", f"sessions/{DAY}")}),
    # the default catalog, as Athena and the OpenLineage provider spell it; the results' prefix
    "athena_query": (
        {(ATHENA, "AwsDataCatalog.web.page_views")},
        {(ATHENA, "AwsDataCatalog.web.daily_visits"), ("s3://acme-athena-results", "queries")},
    ),
    "sql_to_s3": ({(PG, "shop.raw.orders")}, {("s3://acme-exports", f"orders/{DAY}/orders.csv")}),
    # a stage points where only Snowflake knows: no input until the COPY reports its files
    "snowflake_copy": (set(), {("snowflake://xy12345", "ANALYTICS.RAW.EVENTS")}),
}
# why each task failed: a missing key file, a closed port; never a network timeout
KEY_FILE, REFUSED, AWS_ENDPOINT = "/nonexistent/alvin-key", "Connection refused", "http://127.0.0.1:9/"
CAUSES = {
    **dict.fromkeys(["gcs_to_bigquery", "bigquery_to_gcs", "gcs_to_gcs", "bigquery_to_bigquery"], KEY_FILE),
    "bigquery_query": KEY_FILE,
    **dict.fromkeys(
        ["postgres_to_gcs", "postgres_insert", "column_check", "table_check", "sql_to_s3"], REFUSED
    ),
    **dict.fromkeys(["s3_to_redshift", "redshift_to_s3"], REFUSED),  # Redshift, on its closed port
    **dict.fromkeys(["s3_copy", "athena_query"], AWS_ENDPOINT),
    "snowflake_copy": "private_key_file",
}
Ran = Tuple[List[Dict[str, Any]], str, float]  # events, the run's output, its wall time


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Dict[str, str], MockBackendProcess]]:
    """An Airflow home for the transfers DAG reporting to a mock API, its database initialised."""
    work = tmp_path_factory.mktemp("transfers")
    backend = MockBackendProcess(str(work / "alvin.db"))
    try:
        home = str(work / "home")
        os.makedirs(home)
        env = {**airflow_env(home, backend.url), **CONNECTIONS, "AIRFLOW__CORE__DAGS_FOLDER": DAGS}
        init_db(env)
        yield env, backend
    finally:
        backend.stop()


@pytest.fixture(scope="module")
def ran(airflow: Tuple[Dict[str, str], MockBackendProcess]) -> Ran:
    """One ``dags test`` of the transfers DAG, the API up; every task fails as it starts."""
    env, backend = airflow
    began = time.monotonic()
    result = run_airflow(env, "dags", "test", DAG_ID, RUN_DATE)
    took = time.monotonic() - began
    logs = "".join(p.read_text(errors="replace") for p in Path(env["AIRFLOW_HOME"], "logs").rglob("*.log"))
    return backend.get("/api/v1/events"), result.stdout + result.stderr + logs, took


def _task_events(ran: Ran, task: str) -> Dict[str, List[Dict[str, Any]]]:
    by_kind: Dict[str, List[Dict[str, Any]]] = {}
    for item in ran[0]:
        event = item["event"]
        if event["job"]["name"] == f"{DAG_ID}.{task}":
            by_kind.setdefault(event["eventType"], []).append(event)
    return by_kind


def _pairs(event: Dict[str, Any], side: str) -> Pairs:
    pairs = [(d["namespace"], d["name"]) for d in event[side]]
    assert len(pairs) == len(set(pairs)), f"a dataset twice: {pairs}"
    return set(pairs)


@needs_sql_extra
@pytest.mark.parametrize("task", sorted(EXPECTED))
def test_each_task_reports_its_datasets_on_start_and_on_fail(ran: Ran, task: str) -> None:
    events = _task_events(ran, task)
    assert set(events) >= {"START", "FAIL"}, f"{task}: {sorted(events)}\n{ran[1][-3000:]}"
    assert "COMPLETE" not in events
    inputs, outputs = EXPECTED[task]
    for kind in ("START", "FAIL"):
        (event,) = events[kind]
        assert (_pairs(event, "inputs"), _pairs(event, "outputs")) == (inputs, outputs), f"{task} {kind}"


def test_every_task_failed_fast_without_network(ran: Ran) -> None:
    """No task waited on a timeout: each failed within seconds of its START."""
    for task in EXPECTED:
        events = _task_events(ran, task)
        start, fail = (
            datetime.fromisoformat(events[kind][0]["eventTime"].replace("Z", "+00:00"))
            for kind in ("START", "FAIL")
        )
        assert (fail - start).total_seconds() < 30, f"{task}: {fail - start}"
        message = events["FAIL"][0]["run"]["facets"]["errorMessage"]["message"]
        assert CAUSES[task] in message, f"{task}: {message}"


@needs_sql_extra
def test_no_dataset_beyond_the_expected_ones(ran: Ran) -> None:
    """No event of the run (the tasks', the DAG run's) names a dataset no task touches."""
    expected = set().union(*(inputs | outputs for inputs, outputs in EXPECTED.values()))
    tasks = {f"{DAG_ID}.{task}" for task in EXPECTED}
    seen: Pairs = set()
    for item in ran[0]:
        event = item["event"]
        assert event["job"]["name"] == DAG_ID or event["job"]["name"] in tasks, event["job"]["name"]
        seen |= _pairs(event, "inputs") | _pairs(event, "outputs")
    assert seen - expected == set()
    assert expected - seen == set()


@needs_sql_extra
def test_the_lineage_command_predicts_every_start_before_any_task_runs(
    airflow: Tuple[Dict[str, str], MockBackendProcess],
) -> None:
    """``alvin-integration lineage`` on the DAG: each task's START datasets, by value, nothing sent."""
    env, backend = airflow
    before = len(backend.get("/api/v1/events"))
    command = [os.path.join(os.path.dirname(sys.executable), "alvin-integration"), "lineage"]
    result = subprocess.run(
        [*command, "--dags-folder", DAGS, "--dag-id", DAG_ID, "--format", "json"],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = {task["task_id"]: task for task in json.loads(result.stdout)}
    assert sorted(found) == sorted(EXPECTED)
    for task, (inputs, outputs) in EXPECTED.items():
        predicted = found[task]
        pairs = {
            side: {(d["namespace"], d["name"]) for d in predicted[side]} for side in ("inputs", "outputs")
        }
        assert (pairs["inputs"], pairs["outputs"]) == (inputs, outputs), task
        assert predicted["reason"] is None or not (inputs or outputs), predicted
    assert len(backend.get("/api/v1/events")) == before  # the command sends nothing
