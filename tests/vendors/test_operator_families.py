"""Operator families against the providers' real classes: their attributes are where the tables look.

Runs in the ``vendors`` tox environment; each operator is built with realistic arguments inside a
DAG (no run, no connection opened) and its datasets are checked by namespace and name. An operator
whose provider is not installed here is skipped with that reason.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import pytest

pytest.importorskip("airflow.providers.google.cloud.operators.bigquery", reason="the google provider")

from airflow import DAG

from alvin_integration.producers.airflow.extract.operators import SqlToParse, operator_lineage

CONNECTIONS = {
    "alvin_gcp": SimpleNamespace(conn_type="google_cloud_platform", extra_dejson={"project": "conn-project"}),
    "alvin_sftp": SimpleNamespace(conn_type="sftp", host="files.acme.com", extra_dejson={}),
    "alvin_aws": SimpleNamespace(conn_type="aws", extra_dejson={"region_name": "eu-west-1"}),
}
SOURCES = {
    "alvin_snowflake": SimpleNamespace(
        namespace="snowflake://xy12345", database="ANALYTICS", schema="PUBLIC", name_parts=3, case="upper"
    ),
    "alvin_pg": SimpleNamespace(
        namespace="postgres://db.acme:5432", database="shop", schema="public", name_parts=3, case="lower"
    ),
    "alvin_databricks": SimpleNamespace(
        namespace="databricks://dbc-1.cloud.databricks.com",
        database=None,
        schema=None,
        name_parts=3,
        case="lower",
    ),
    "alvin_trino": SimpleNamespace(
        namespace="trino://trino.acme:8080", database="hive", schema=None, name_parts=3, case="lower"
    ),
}
Pairs = List[Tuple[str, str]]
GS, BQ = "gs://", "bigquery"


def _class(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except Exception as exc:  # the provider (or the operator in this version of it) is not here
        pytest.skip(f"{path}: {type(exc).__name__}: {exc}")


def _lineage(path: str, **kwargs: Any) -> Any:
    cls = _class(path)
    with DAG("alvin_families", start_date=datetime(2026, 11, 1), schedule=None):
        task = cls(task_id="t", **kwargs)
    found = operator_lineage(task, CONNECTIONS.get, SOURCES.get, at_end=False)
    assert found is not None, f"{cls.__name__} is not in a family table"
    return found


def _pairs(found: Any) -> Tuple[Pairs, Pairs]:
    return [(d.namespace, d.name) for d in found.inputs], [(d.namespace, d.name) for d in found.outputs]


G = "airflow.providers.google.cloud"
CASES: List[Tuple[str, Dict[str, Any], Pairs, Pairs]] = [
    (
        f"{G}.transfers.gcs_to_bigquery.GCSToBigQueryOperator",
        {
            "bucket": "raw",
            "source_objects": ["orders/2026-11-01/*.csv"],
            "destination_project_dataset_table": "sales.orders",
            "gcp_conn_id": "alvin_gcp",
        },
        [("gs://raw", "orders/2026-11-01")],
        [(BQ, "conn-project.sales.orders")],
    ),
    (
        f"{G}.transfers.bigquery_to_gcs.BigQueryToGCSOperator",
        {
            "source_project_dataset_table": "acme.sales.orders",
            "destination_cloud_storage_uris": ["gs://exports/orders/part-*.csv"],
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "acme.sales.orders")],
        [("gs://exports", "orders")],
    ),
    (
        f"{G}.transfers.bigquery_to_bigquery.BigQueryToBigQueryOperator",
        {
            "source_project_dataset_tables": ["sales.orders"],
            "destination_project_dataset_table": "backup.orders",
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "conn-project.sales.orders")],
        [(BQ, "conn-project.backup.orders")],
    ),
    (
        f"{G}.transfers.gcs_to_gcs.GCSToGCSOperator",
        {
            "source_bucket": "landing",
            "source_object": "in/orders.csv",
            "destination_bucket": "archive",
            "destination_object": "2026/orders.csv",
            "gcp_conn_id": "alvin_gcp",
        },
        [("gs://landing", "in/orders.csv")],
        [("gs://archive", "2026/orders.csv")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryInsertJobOperator",
        {
            "configuration": {
                "load": {
                    "sourceUris": ["gs://raw/events/*.json"],
                    "destinationTable": {"datasetId": "web", "tableId": "events"},
                }
            },
            "project_id": "job-project",
            "gcp_conn_id": "alvin_gcp",
        },
        [("gs://raw", "events")],
        [(BQ, "job-project.web.events")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryInsertJobOperator",
        {
            "configuration": {
                "extract": {
                    "sourceTable": {"projectId": "acme", "datasetId": "web", "tableId": "events"},
                    "destinationUris": ["gs://exports/events.avro"],
                }
            },
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "acme.web.events")],
        [("gs://exports", "events.avro")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryInsertJobOperator",
        {
            "configuration": {
                "copy": {
                    "sourceTables": [{"datasetId": "web", "tableId": "events"}],
                    "destinationTable": {"datasetId": "web", "tableId": "events_copy"},
                }
            },
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "conn-project.web.events")],
        [(BQ, "conn-project.web.events_copy")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryCreateTableOperator",
        {
            "dataset_id": "web",
            "table_id": "sessions",
            "table_resource": {"schema": {"fields": []}},
            "gcp_conn_id": "alvin_gcp",
        },
        [],
        [(BQ, "conn-project.web.sessions")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryCreateEmptyTableOperator",
        {"dataset_id": "web", "table_id": "sessions", "gcp_conn_id": "alvin_gcp"},
        [],
        [(BQ, "conn-project.web.sessions")],
    ),
    (
        f"{G}.operators.bigquery.BigQueryColumnCheckOperator",
        {
            "table": "acme.web.events",
            "column_mapping": {"id": {"null_check": {"equal_to": 0}}},
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "acme.web.events")],
        [],
    ),
    (
        f"{G}.operators.bigquery.BigQueryTableCheckOperator",
        {
            "table": "web.events",
            "checks": {"rows": {"check_statement": "COUNT(*) > 0"}},
            "gcp_conn_id": "alvin_gcp",
        },
        [(BQ, "conn-project.web.events")],
        [],
    ),
    (
        f"{G}.operators.bigquery.BigQueryIntervalCheckOperator",
        {"table": "web.events", "metrics_thresholds": {"COUNT(*)": 1.5}, "gcp_conn_id": "alvin_gcp"},
        [(BQ, "conn-project.web.events")],
        [],
    ),
    (
        f"{G}.transfers.local_to_gcs.LocalFilesystemToGCSOperator",
        {
            "src": "/data/exports/orders.csv",
            "dst": "landing/orders.csv",
            "bucket": "raw",
            "gcp_conn_id": "alvin_gcp",
        },
        [("file", "data/exports/orders.csv")],
        [("gs://raw", "landing/orders.csv")],
    ),
    (
        "airflow.providers.snowflake.transfers.copy_into_snowflake.CopyFromExternalStageToSnowflakeOperator",
        {
            "table": "orders",
            "schema": "raw",
            "stage": "ORDERS_STAGE",
            "file_format": "(TYPE = CSV)",
            "snowflake_conn_id": "alvin_snowflake",
        },
        [],
        [("snowflake://xy12345", "ANALYTICS.RAW.ORDERS")],
    ),
    (
        "airflow.providers.common.sql.operators.generic_transfer.GenericTransfer",
        {
            "sql": "SELECT * FROM leads",
            "destination_table": "staging.leads",
            "source_conn_id": "alvin_snowflake",
            "destination_conn_id": "alvin_pg",
        },
        [],
        [("postgres://db.acme:5432", "shop.staging.leads")],
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLColumnCheckOperator",
        {"table": "orders", "column_mapping": {"id": {"null_check": {"equal_to": 0}}}, "conn_id": "alvin_pg"},
        [("postgres://db.acme:5432", "shop.public.orders")],
        [],
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLTableCheckOperator",
        {
            "table": "sales.orders",
            "checks": {"rows": {"check_statement": "COUNT(*) > 0"}},
            "conn_id": "alvin_pg",
        },
        [("postgres://db.acme:5432", "shop.sales.orders")],
        [],
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLIntervalCheckOperator",
        {"table": "orders", "metrics_thresholds": {"COUNT(*)": 1.5}, "conn_id": "alvin_pg"},
        [("postgres://db.acme:5432", "shop.public.orders")],
        [],
    ),
    (
        f"{G}.transfers.sftp_to_gcs.SFTPToGCSOperator",
        {
            "source_path": "/exports/orders.csv",
            "destination_bucket": "landing",
            "destination_path": "sftp/orders.csv",
            "sftp_conn_id": "alvin_sftp",
            "gcp_conn_id": "alvin_gcp",
        },
        [("file://files.acme.com", "/exports/orders.csv")],
        [("gs://landing", "sftp/orders.csv")],
    ),
    (
        f"{G}.transfers.s3_to_gcs.S3ToGCSOperator",
        {
            "bucket": "s3-raw",
            "prefix": "events/",
            "dest_gcs": "gs://landing/events/",
            "aws_conn_id": "alvin_aws",
            "gcp_conn_id": "alvin_gcp",
        },
        [("s3://s3-raw", "events")],
        [("gs://landing", "events")],
    ),
    (
        "airflow.providers.amazon.aws.operators.s3.S3CopyObjectOperator",
        {
            "source_bucket_key": "s3://landing/in/orders.csv",
            "dest_bucket_name": "archive",
            "dest_bucket_key": "2026/orders.csv",
            "aws_conn_id": "alvin_aws",
        },
        [("s3://landing", "in/orders.csv")],
        [("s3://archive", "2026/orders.csv")],
    ),
    (
        "airflow.providers.amazon.aws.operators.s3.S3CreateObjectOperator",
        {"s3_bucket": "flags", "s3_key": "done/orders.txt", "data": "ok", "aws_conn_id": "alvin_aws"},
        [],
        [("s3://flags", "done/orders.txt")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.s3_to_redshift.S3ToRedshiftOperator",
        {
            "s3_bucket": "landing",
            "s3_key": "orders/",
            "schema": "sales",
            "table": "orders",
            "redshift_data_api_kwargs": {"cluster_identifier": "warehouse", "database": "dev"},
            "aws_conn_id": "alvin_aws",
        },
        [("s3://landing", "orders")],
        [("redshift://warehouse.eu-west-1:5439", "dev.sales.orders")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.s3_to_sql.S3ToSqlOperator",
        {
            "s3_bucket": "landing",
            "s3_key": "orders.csv",
            "table": "orders",
            "schema": "staging",
            "sql_conn_id": "alvin_pg",
            "parser": list,
            "aws_conn_id": "alvin_aws",
        },
        [("s3://landing", "orders.csv")],
        [("postgres://db.acme:5432", "shop.staging.orders")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.gcs_to_s3.GCSToS3Operator",
        {
            "gcs_bucket": "exports",
            "prefix": "orders/",
            "dest_s3_key": "s3://landing/orders/",
            "gcp_conn_id": "alvin_gcp",
        },
        [("gs://exports", "orders")],
        [("s3://landing", "orders")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.dynamodb_to_s3.DynamoDBToS3Operator",
        {
            "dynamodb_table_name": "users",
            "s3_bucket_name": "backups",
            "s3_key_prefix": "ddb/users/",
            "file_size": 1000,
        },
        [],
        [("s3://backups", "ddb/users")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.sftp_to_s3.SFTPToS3Operator",
        {
            "sftp_path": "/exports/orders.csv",
            "s3_bucket": "landing",
            "s3_key": "sftp/orders.csv",
            "sftp_conn_id": "alvin_sftp",
        },
        [("file://files.acme.com", "/exports/orders.csv")],
        [("s3://landing", "sftp/orders.csv")],
    ),
    (
        "airflow.providers.amazon.aws.transfers.s3_to_sftp.S3ToSFTPOperator",
        {
            "s3_bucket": "landing",
            "s3_key": "out/orders.csv",
            "sftp_path": "/imports/orders.csv",
            "sftp_conn_id": "alvin_sftp",
        },
        [("s3://landing", "out/orders.csv")],
        [("file://files.acme.com", "/imports/orders.csv")],
    ),
    (
        "airflow.providers.databricks.operators.databricks_sql.DatabricksCopyIntoOperator",
        {
            "table_name": "raw.events",
            "catalog": "main",
            "file_location": "s3://landing/events/",
            "file_format": "JSON",
            "databricks_conn_id": "alvin_databricks",
        },
        [("s3://landing", "events")],
        [("databricks://dbc-1.cloud.databricks.com", "main.raw.events")],
    ),
    (
        "airflow.providers.trino.transfers.gcs_to_trino.GCSToTrinoOperator",
        {
            "source_bucket": "landing",
            "source_object": "events/2026-11-01.csv",
            "trino_table": "web.events",
            "trino_conn_id": "alvin_trino",
        },
        [("gs://landing", "events/2026-11-01.csv")],
        [("trino://trino.acme:8080", "hive.web.events")],
    ),
]


@pytest.mark.parametrize(
    "path, kwargs, inputs, outputs", CASES, ids=[f"{c[0].rsplit('.', 1)[1]}-{i}" for i, c in enumerate(CASES)]
)
def test_real_operators_name_their_datasets(
    path: str, kwargs: Dict[str, Any], inputs: Pairs, outputs: Pairs
) -> None:
    found = _lineage(path, **kwargs)
    assert _pairs(found) == (inputs, outputs), found.errors


SQL_CASES: List[Tuple[str, Dict[str, Any], SqlToParse]] = [
    (
        f"{G}.operators.bigquery.BigQueryInsertJobOperator",
        {
            "configuration": {"query": {"query": "SELECT * FROM raw.orders", "useLegacySql": False}},
            "project_id": "job-project",
            "gcp_conn_id": "alvin_gcp",
        },
        SqlToParse("SELECT * FROM raw.orders", namespace=BQ, dialect=BQ, database="job-project"),
    ),
    (
        f"{G}.operators.bigquery.BigQueryCheckOperator",
        {"sql": "SELECT COUNT(*) FROM web.events", "gcp_conn_id": "alvin_gcp"},
        SqlToParse("SELECT COUNT(*) FROM web.events", namespace=BQ, dialect=BQ, database="conn-project"),
    ),
    (
        f"{G}.operators.bigquery.BigQueryValueCheckOperator",
        {"sql": "SELECT COUNT(*) FROM web.events", "pass_value": 1, "gcp_conn_id": "alvin_gcp"},
        SqlToParse("SELECT COUNT(*) FROM web.events", namespace=BQ, dialect=BQ, database="conn-project"),
    ),
    (
        f"{G}.operators.dataproc.DataprocSubmitJobOperator",
        {
            "job": {
                "placement": {"cluster_name": "etl"},
                "hive_job": {"query_list": {"queries": ["INSERT INTO agg SELECT * FROM events"]}},
            },
            "region": "europe-west1",
            "project_id": "acme",
            "gcp_conn_id": "alvin_gcp",
        },
        SqlToParse(
            ["INSERT INTO agg SELECT * FROM events"],
            namespace="hive://etl-m:9083",
            dialect="hive",
            database="default",
            name_parts=2,
            case="lower",
        ),
    ),
    (
        f"{G}.transfers.postgres_to_gcs.PostgresToGCSOperator",
        {
            "sql": "SELECT * FROM raw.customers",
            "bucket": "exports",
            "filename": "customers/{}.json",
            "postgres_conn_id": "alvin_pg",
            "gcp_conn_id": "alvin_gcp",
        },
        SqlToParse("SELECT * FROM raw.customers", conn_id="alvin_pg"),
    ),
    (
        "airflow.providers.snowflake.operators.snowflake.SnowflakeSqlApiOperator",
        {
            "sql": "MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE",
            "snowflake_conn_id": "alvin_snowflake",
        },
        SqlToParse("MERGE INTO a USING b ON a.id = b.id WHEN MATCHED THEN DELETE", conn_id="alvin_snowflake"),
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLCheckOperator",
        {"sql": "SELECT COUNT(*) FROM orders", "conn_id": "alvin_pg"},
        SqlToParse("SELECT COUNT(*) FROM orders", conn_id="alvin_pg"),
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLValueCheckOperator",
        {"sql": "SELECT COUNT(*) FROM orders", "pass_value": 1, "conn_id": "alvin_pg"},
        SqlToParse("SELECT COUNT(*) FROM orders", conn_id="alvin_pg"),
    ),
    (
        "airflow.providers.common.sql.operators.sql.SQLThresholdCheckOperator",
        {
            "sql": "SELECT COUNT(*) FROM orders",
            "min_threshold": 1,
            "max_threshold": 10,
            "conn_id": "alvin_pg",
        },
        SqlToParse("SELECT COUNT(*) FROM orders", conn_id="alvin_pg"),
    ),
    (
        "airflow.providers.amazon.aws.operators.athena.AthenaOperator",
        {
            "query": "INSERT INTO agg SELECT * FROM events",
            "database": "web",
            "output_location": "s3://athena-results/",
            "aws_conn_id": "alvin_aws",
        },
        SqlToParse(
            "INSERT INTO agg SELECT * FROM events",
            namespace="awsathena://athena.eu-west-1.amazonaws.com",
            dialect="athena",
            database="AwsDataCatalog",
            schema="web",
            case="lower",
        ),
    ),
    (
        "airflow.providers.amazon.aws.operators.redshift_data.RedshiftDataOperator",
        {
            "sql": "SELECT * FROM sales.orders",
            "cluster_identifier": "warehouse",
            "database": "dev",
            "region_name": "us-east-1",
        },
        SqlToParse(
            "SELECT * FROM sales.orders",
            namespace="redshift://warehouse.us-east-1:5439",
            dialect="redshift",
            database="dev",
            schema="public",
            case="lower",
        ),
    ),
    (
        "airflow.providers.amazon.aws.transfers.sql_to_s3.SqlToS3Operator",
        {
            "query": "SELECT * FROM raw.customers",
            "s3_bucket": "exports",
            "s3_key": "customers.parquet",
            "sql_conn_id": "alvin_pg",
        },
        SqlToParse("SELECT * FROM raw.customers", conn_id="alvin_pg"),
    ),
    (
        "airflow.providers.databricks.operators.databricks_sql.DatabricksSqlOperator",
        {
            "sql": "INSERT INTO marts.daily SELECT * FROM raw.events",
            "catalog": "main",
            "schema": "raw",
            "databricks_conn_id": "alvin_databricks",
        },
        SqlToParse(
            "INSERT INTO marts.daily SELECT * FROM raw.events",
            conn_id="alvin_databricks",
            database="main",
            schema="raw",
        ),
    ),
]


@pytest.mark.parametrize(
    "path, kwargs, sql", SQL_CASES, ids=[f"{c[0].rsplit('.', 1)[1]}-{i}" for i, c in enumerate(SQL_CASES)]
)
def test_real_operators_hand_over_their_sql_with_where_it_runs(
    path: str, kwargs: Dict[str, Any], sql: SqlToParse
) -> None:
    found = _lineage(path, **kwargs)
    assert found.sql == [sql], found.errors


def test_the_phantom_case_names_the_sql_on_the_postgres_connection_not_the_gcp_one() -> None:
    found = _lineage(
        f"{G}.transfers.postgres_to_gcs.PostgresToGCSOperator",
        sql="SELECT * FROM raw.customers",
        bucket="exports",
        filename="customers/{}.json",
        postgres_conn_id="alvin_pg",
        gcp_conn_id="alvin_gcp",
    )
    assert [s.conn_id for s in found.sql] == ["alvin_pg"]
    assert all(d.namespace != BQ for d in found.inputs + found.outputs)


def test_a_gcp_connection_without_a_project_names_no_table() -> None:
    found: Optional[Any] = _lineage(
        f"{G}.transfers.bigquery_to_bigquery.BigQueryToBigQueryOperator",
        source_project_dataset_tables=["sales.orders"],
        destination_project_dataset_table="backup.orders",
        gcp_conn_id="no_such_connection",
    )
    assert _pairs(found) == ([], [])
    assert len(found.errors) == 2 and all("no project" in e for e in found.errors)
