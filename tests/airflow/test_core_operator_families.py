"""The operator families against the classes this row's Airflow ships itself: 1.10's contrib and core
transfers (with boto3, as a 1.10 user of them installs it), 2.x's core SQL operators.

Each operator is built inside a DAG (nothing runs, no connection opens); connections come from
``AIRFLOW_CONN_*`` URIs, read by the real ``lineage_of`` as a task's START reads them. A class this
row does not ship is skipped with that reason.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import pytest

from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.read import read_task_try

CONNECTIONS = {
    "AIRFLOW_CONN_ALVIN_REDSHIFT": (
        "redshift://loader:rs-Secret-1@127.0.0.1:5439/warehouse?cluster_identifier=acme-warehouse&region=eu-west-1"
    ),
    "AIRFLOW_CONN_ALVIN_AWS": "aws://AKIAALVIN:aws-Secret-1@?region_name=eu-west-1",
    "AIRFLOW_CONN_ALVIN_PG": "postgres://reader:pg-Secret-1@shop-db:5432/shop",
}
REDSHIFT, PG = "redshift://acme-warehouse.eu-west-1:5439", "postgres://shop-db:5432"
ATHENA = "awsathena://athena.eu-west-1.amazonaws.com"
AWS = {"aws_conn_id": "alvin_aws"}
REDSHIFT_CONN = {**AWS, "redshift_conn_id": "alvin_redshift"}
Pairs = List[Tuple[str, str]]
CASES: List[Tuple[str, Dict[str, Any], Pairs, Pairs]] = [
    (
        "airflow.operators.s3_to_redshift_operator.S3ToRedshiftTransfer",
        {
            **REDSHIFT_CONN,
            "schema": "raw",
            "table": "events",
            "s3_bucket": "landing",
            "s3_key": "events/2026",
        },
        [("s3://landing", "events/2026/events")],  # 1.10 copies from <s3_key>/<table>
        [(REDSHIFT, "warehouse.raw.events")],
    ),
    (
        "airflow.operators.redshift_to_s3_operator.RedshiftToS3Transfer",
        {
            **REDSHIFT_CONN,
            "schema": "marts",
            "table": "sessions",
            "s3_bucket": "exports",
            "s3_key": "sessions",
        },
        [(REDSHIFT, "warehouse.marts.sessions")],
        [("s3://exports", "sessions")],
    ),
    (
        "airflow.contrib.operators.aws_athena_operator.AWSAthenaOperator",
        {
            **AWS,
            "query": "INSERT INTO agg SELECT * FROM events",
            "database": "web",
            "output_location": "s3://athena-results/q/",
        },
        [(ATHENA, "AwsDataCatalog.web.events")],
        [("s3://athena-results", "q"), (ATHENA, "AwsDataCatalog.web.agg")],
    ),
    (
        "airflow.contrib.operators.s3_copy_object_operator.S3CopyObjectOperator",
        {
            **AWS,
            "source_bucket_name": "landing",
            "source_bucket_key": "in/e.json",
            "dest_bucket_name": "archive",
            "dest_bucket_key": "out/e.json",
        },
        [("s3://landing", "in/e.json")],
        [("s3://archive", "out/e.json")],
    ),
    (
        "airflow.operators.check_operator.CheckOperator",
        {"sql": "SELECT COUNT(*) FROM raw.orders", "conn_id": "alvin_pg"},
        [(PG, "shop.raw.orders")],
        [],
    ),
    (
        "airflow.operators.sql.SQLCheckOperator",  # 2.x core, before the common-sql provider
        {"sql": "SELECT COUNT(*) FROM raw.orders", "conn_id": "alvin_pg"},
        [(PG, "shop.raw.orders")],
        [],
    ),
    (
        "airflow.operators.generic_transfer.GenericTransfer",  # 1.10 and 2.x core
        {
            "sql": "SELECT * FROM raw.orders",
            "destination_table": "marts.orders",
            "source_conn_id": "alvin_pg",
            "destination_conn_id": "alvin_redshift",
        },
        [(PG, "shop.raw.orders")],
        [(REDSHIFT, "warehouse.marts.orders")],
    ),
]


def _class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as exc:  # not shipped by this row's Airflow
        pytest.skip(f"{path} is not in this Airflow: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("path, kwargs, inputs, outputs", CASES, ids=[c[0].rsplit(".", 1)[1] for c in CASES])
def test_a_start_names_the_datasets_of_this_airflows_own_operators(
    monkeypatch: pytest.MonkeyPatch, path: str, kwargs: Dict[str, Any], inputs: Pairs, outputs: Pairs
) -> None:
    cls = _class(path)
    for name, uri in CONNECTIONS.items():
        monkeypatch.setenv(name, uri)
    from airflow import DAG

    try:
        dag = DAG("alvin_core_families", start_date=datetime(2026, 11, 1), schedule=None)  # Airflow 2.4+
    except TypeError:
        dag = DAG("alvin_core_families", start_date=datetime(2026, 11, 1), schedule_interval=None)
    with dag:
        task = cls(task_id="t", **kwargs)
    ti = SimpleNamespace(task=task, dag_id="alvin_core_families", task_id="t", run_id="r", map_index=-1)
    found = lineage_of(read_task_try(ti, 1, "running"), start_wait=30.0)  # the parse waited for
    named = (
        sorted((d.namespace, d.name) for d in found.inputs),
        sorted((d.namespace, d.name) for d in found.outputs),
    )
    assert named == (sorted(inputs), sorted(outputs)), found.run_facets.get("extractionError")
