"""Operator families: every row of every table, with operators named and shaped like the providers'.

Each case builds a class named like the real operator, carrying the attributes the real one
carries (provider sources of 2025-2026), and checks the datasets by namespace and name on START
and at the end. No provider is installed here: the real classes are in tests/vendors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest

from alvin_integration.producers.airflow.extract import operators
from alvin_integration.producers.airflow.extract.operators import (
    OperatorLineage,
    SqlToParse,
    families,
    families_markdown,
    operator_lineage,
)
from alvin_integration.producers.airflow.extract.operators._base import object_name, qualified

CONNECTIONS: Dict[str, Any] = {
    "google_cloud_default": SimpleNamespace(
        conn_type="google_cloud_platform", extra_dejson={"project": "conn-proj"}
    ),
    "gcp_no_project": SimpleNamespace(conn_type="google_cloud_platform", extra_dejson={}),
    "aws_default": SimpleNamespace(conn_type="aws", extra_dejson={"region_name": "eu-west-1"}),
    "aws_no_region": SimpleNamespace(conn_type="aws", extra_dejson={}),
    "aws_prefixed": SimpleNamespace(
        conn_type="aws", extra_dejson=None, extra='{"extra__aws__region_name": "us-east-2"}'
    ),
    "ssh_default": SimpleNamespace(conn_type="sftp", host="sftp.acme.com", extra_dejson={}),
    "ftp_no_host": SimpleNamespace(conn_type="sftp", host=None, extra_dejson={}),
}
SOURCES: Dict[str, Any] = {
    "pg": SimpleNamespace(
        namespace="postgres://db.acme:5432", database="shop", schema="public", name_parts=3, case="lower"
    ),
    "mysql": SimpleNamespace(
        namespace="mysql://my.acme:3306", database="crm", schema=None, name_parts=2, case=None
    ),
    "redshift_default": SimpleNamespace(
        namespace="redshift://cluster1.eu-west-1:5439",
        database="dev",
        schema="public",
        name_parts=3,
        case="lower",
    ),
    "snowflake_default": SimpleNamespace(
        namespace="snowflake://xy12345", database="ANALYTICS", schema="PUBLIC", name_parts=3, case="upper"
    ),
    "databricks_default": SimpleNamespace(
        namespace="databricks://dbc-1.cloud.databricks.com",
        database=None,
        schema=None,
        name_parts=3,
        case=None,
    ),
    "trino_default": SimpleNamespace(
        namespace="trino://trino.acme:8080", database="hive", schema=None, name_parts=3, case="lower"
    ),
}


def connection(conn_id: str) -> Optional[Any]:
    if conn_id == "broken":
        raise RuntimeError("secrets backend down")
    return CONNECTIONS.get(conn_id)


def sql_source(conn_id: str) -> Optional[Any]:
    return SOURCES.get(conn_id)


def make(name: str, **attrs: Any) -> Any:
    """An instance of a class named ``name`` with ``attrs`` (as the real operator's ``__init__`` sets)."""
    return _with(type(name, (), {})(), attrs)


def _with(task: Any, attrs: Dict[str, Any]) -> Any:
    for key, value in attrs.items():
        setattr(task, key, value)
    return task


def run(task: Any, at_end: bool = False) -> OperatorLineage:
    found = operator_lineage(task, connection, sql_source, at_end)
    assert found is not None
    return found


Pairs = List[Tuple[str, str]]


def pairs(found: OperatorLineage) -> Tuple[Pairs, Pairs]:
    return [(d.namespace, d.name) for d in found.inputs], [(d.namespace, d.name) for d in found.outputs]


TESTED: Set[str] = set()


def check(
    name: str,
    attrs: Dict[str, Any],
    inputs: Pairs,
    outputs: Pairs,
    sql: Optional[List[SqlToParse]] = None,
    end: Optional[Dict[str, Any]] = None,
    end_inputs: Optional[Pairs] = None,
    query: Optional[Tuple[str, str]] = None,
) -> OperatorLineage:
    """START names ``inputs``/``outputs`` (and ``sql``); the end too, after the task set ``end``."""
    TESTED.add(name)
    task = make(name, **attrs)
    start = run(task)
    assert pairs(start) == (inputs, outputs), start.errors
    assert start.sql == (sql or [])
    assert "externalQuery" not in start.run_facets
    _with(task, end or {})
    finished = run(task, at_end=True)
    assert pairs(finished) == (end_inputs if end_inputs is not None else inputs, outputs), finished.errors
    if query:
        facet = finished.run_facets["externalQuery"].to_dict()
        assert (facet["externalQueryId"], facet["source"]) == query
    return finished


GCP = {"gcp_conn_id": "google_cloud_default"}
BQ = "bigquery"


# --- google ---------------------------------------------------------------------------------------
def test_gcs_to_bigquery() -> None:
    check(
        "GCSToBigQueryOperator",
        {
            **GCP,
            "bucket": "raw",
            "source_objects": ["orders/2026/*.csv", "orders/extra.csv"],
            "destination_project_dataset_table": "sales.orders",
            "project_id": None,
            "job_id": None,
        },
        [("gs://raw", "orders/2026"), ("gs://raw", "orders/extra.csv")],
        [(BQ, "conn-proj.sales.orders")],
        end={"job_id": "airflow_gcs_1"},
        query=("airflow_gcs_1", "bigquery"),
    )


def test_bigquery_to_gcs() -> None:
    check(
        "BigQueryToGCSOperator",
        {
            **GCP,
            "source_project_dataset_table": "p1:sales.orders",
            "destination_cloud_storage_uris": ["gs://out/orders-*.csv"],
        },
        [(BQ, "p1.sales.orders")],
        [("gs://out", "/")],
        end={"job_id": "job-2"},
        query=("job-2", "bigquery"),
    )


def test_bigquery_to_bigquery() -> None:
    check(
        "BigQueryToBigQueryOperator",
        {
            **GCP,
            "source_project_dataset_tables": ["a.t1", "other.a.t2"],
            "destination_project_dataset_table": "b.t",
            "project_id": "proj",
        },
        [(BQ, "proj.a.t1"), (BQ, "other.a.t2")],
        [(BQ, "proj.b.t")],
    )


def test_gcs_to_gcs() -> None:
    check(
        "GCSToGCSOperator",
        {
            **GCP,
            "source_bucket": "src",
            "source_object": "data/*.parquet",
            "source_objects": None,
            "destination_bucket": "dst",
            "destination_object": "copy/",
        },
        [("gs://src", "data")],
        [("gs://dst", "copy")],
    )


def test_gcs_to_gcs_keeps_names_in_the_source_bucket_without_a_destination() -> None:
    found = run(
        make("GCSToGCSOperator", source_bucket="src", source_objects=["a/b.csv"], destination_object=None)
    )
    assert pairs(found) == ([("gs://src", "a/b.csv")], [("gs://src", "a/b.csv")])


@pytest.mark.parametrize(
    "configuration, inputs, outputs, sql",
    [
        (
            {
                "query": {
                    "query": "SELECT 1 FROM x",
                    "useLegacySql": False,
                    "defaultDataset": {"datasetId": "ds"},
                    "destinationTable": {"projectId": "p", "datasetId": "d", "tableId": "t"},
                }
            },
            [],
            [(BQ, "p.d.t")],
            [SqlToParse("SELECT 1 FROM x", namespace=BQ, dialect=BQ, database="job-proj", schema="ds")],
        ),
        (
            {
                "load": {
                    "sourceUris": ["gs://in/a/*.json"],
                    "destinationTable": {"datasetId": "d", "tableId": "t"},
                }
            },
            [("gs://in", "a")],
            [(BQ, "job-proj.d.t")],
            [],
        ),
        (
            {
                "extract": {
                    "sourceTable": {"projectId": "p", "datasetId": "d", "tableId": "t"},
                    "destinationUris": ["gs://out/t/part-*.avro"],
                }
            },
            [(BQ, "p.d.t")],
            [("gs://out", "t")],
            [],
        ),
        (
            {
                "copy": {
                    "sourceTables": [{"datasetId": "d", "tableId": "a"}, {"datasetId": "d", "tableId": "b"}],
                    "destinationTable": {"datasetId": "d", "tableId": "c"},
                }
            },
            [(BQ, "job-proj.d.a"), (BQ, "job-proj.d.b")],
            [(BQ, "job-proj.d.c")],
            [],
        ),
    ],
    ids=["query", "load", "extract", "copy"],
)
def test_bigquery_insert_job_of_every_type(
    configuration: Dict[str, Any], inputs: Pairs, outputs: Pairs, sql: List[SqlToParse]
) -> None:
    check(
        "BigQueryInsertJobOperator",
        {**GCP, "configuration": configuration, "project_id": "job-proj", "job_id": None},
        inputs,
        outputs,
        sql,
        end={"job_id": "airflow_1234"},
        query=("airflow_1234", "bigquery"),
    )


@pytest.mark.parametrize("name", ["BigQueryCreateTableOperator", "BigQueryCreateEmptyTableOperator"])
def test_bigquery_create_table(name: str) -> None:
    check(name, {**GCP, "dataset_id": "d", "table_id": "t", "project_id": None}, [], [(BQ, "conn-proj.d.t")])
    found = run(
        make(
            name,
            dataset_id=None,
            table_id=None,
            table_resource={"tableReference": {"projectId": "p", "datasetId": "d2", "tableId": "t2"}},
        )
    )
    assert pairs(found) == ([], [(BQ, "p.d2.t2")])


@pytest.mark.parametrize("name", ["BigQueryCheckOperator", "BigQueryValueCheckOperator"])
def test_bigquery_sql_checks(name: str) -> None:
    check(
        name,
        {**GCP, "sql": "SELECT COUNT(*) FROM d.t", "project_id": None},
        [],
        [],
        [SqlToParse("SELECT COUNT(*) FROM d.t", namespace=BQ, dialect=BQ, database="conn-proj")],
    )


@pytest.mark.parametrize(
    "name", ["BigQueryIntervalCheckOperator", "BigQueryColumnCheckOperator", "BigQueryTableCheckOperator"]
)
def test_bigquery_table_checks(name: str) -> None:
    check(name, {**GCP, "table": "d.t", "project_id": "p"}, [(BQ, "p.d.t")], [])


def test_local_filesystem_to_gcs() -> None:
    check(
        "LocalFilesystemToGCSOperator",
        {**GCP, "src": "/data/exports/*.csv", "dst": "exports/", "bucket": "b"},
        [("file", "data/exports")],
        [("gs://b", "exports")],
    )


@pytest.mark.parametrize(
    "name, conn_attr",
    [
        ("PostgresToGCSOperator", "postgres_conn_id"),
        ("MySQLToGCSOperator", "mysql_conn_id"),
        ("MSSQLToGCSOperator", "mssql_conn_id"),
        ("OracleToGCSOperator", "oracle_conn_id"),
        ("TrinoToGCSOperator", "trino_conn_id"),
        ("PrestoToGCSOperator", "presto_conn_id"),
    ],
)
def test_sql_to_gcs_runs_its_sql_on_the_source_connection(name: str, conn_attr: str) -> None:
    sql = "SELECT * FROM raw.customers"
    check(
        name,
        {
            **GCP,
            conn_attr: "source_db",
            "sql": sql,
            "bucket": "exports",
            "filename": "customers/part_{}.json",
        },
        [],
        [("gs://exports", "customers")],
        [SqlToParse(sql, conn_id="source_db")],
    )


def test_s3_to_gcs() -> None:
    check(
        "S3ToGCSOperator",
        {
            **GCP,
            "aws_conn_id": "aws_default",
            "bucket": "s3b",
            "prefix": "logs/2026/",
            "dest_gcs": "gs://gb/landing/",
        },
        [("s3://s3b", "logs/2026")],
        [("gs://gb", "landing")],
    )


def test_dataproc_query_jobs() -> None:
    hive = {
        "placement": {"cluster_name": "etl"},
        "hive_job": {"query_list": {"queries": ["INSERT INTO a SELECT * FROM b"]}},
    }
    check(
        "DataprocSubmitJobOperator",
        {**GCP, "job": hive, "project_id": "p", "region": "europe-west1"},
        [],
        [],
        [
            SqlToParse(
                ["INSERT INTO a SELECT * FROM b"],
                namespace="hive://etl-m:9083",
                dialect="hive",
                database="default",
                name_parts=2,
                case="lower",
            )
        ],
    )
    spark = {
        "placement": {"cluster_name": "etl"},
        "spark_sql_job": {
            "query_list": {"queries": ["SELECT 1 FROM t"]},
            "properties": {"hive.metastore.uris": "thrift://meta:9083"},
        },
    }
    assert run(make("DataprocSubmitJobOperator", job=spark)).sql[0].namespace == "hive://meta:9083"
    presto = {
        "placement": {"cluster_name": "etl"},
        "presto_job": {"query_list": {"queries": ["SELECT 1 FROM c.s.t"]}},
    }
    assert run(make("DataprocSubmitJobOperator", job=presto)).sql[0].namespace == "presto://etl-m:8060"
    from_file = run(make("DataprocSubmitJobOperator", job={"hive_job": {"query_file_uri": "gs://b/q.sql"}}))
    assert from_file.sql == [] and "in a file" in from_file.errors[0]
    no_cluster = run(
        make("DataprocSubmitJobOperator", job={"hive_job": {"query_list": {"queries": ["SELECT 1"]}}})
    )
    assert no_cluster.sql == [] and "no cluster" in no_cluster.errors[0]


def test_bigquery_without_a_project_names_no_table() -> None:
    found = run(
        make(
            "GCSToBigQueryOperator",
            gcp_conn_id="gcp_no_project",
            bucket="raw",
            source_objects=["a.csv"],
            destination_project_dataset_table="sales.orders",
        )
    )
    assert pairs(found) == ([("gs://raw", "a.csv")], [])
    assert found.errors == [
        "GCSToBigQueryOperator: output left out: sales.orders: no project (set project_id or "
        "the connection's project)"
    ]


def test_gcs_without_a_bucket_names_no_object() -> None:
    found = run(
        make(
            "GCSToBigQueryOperator",
            bucket=None,
            source_objects=["a.csv"],
            destination_project_dataset_table="p.sales.orders",
        )
    )
    assert pairs(found) == ([], [(BQ, "p.sales.orders")])
    assert found.errors == ["GCSToBigQueryOperator: input left out: no bucket"]


# --- amazon ---------------------------------------------------------------------------------------
AWS = {"aws_conn_id": "aws_default", "region_name": None}


def test_s3_copy_object() -> None:
    check(
        "S3CopyObjectOperator",
        {
            **AWS,
            "source_bucket_name": None,
            "source_bucket_key": "s3://a/in/x.csv",
            "dest_bucket_name": "b",
            "dest_bucket_key": "out/x.csv",
        },
        [("s3://a", "in/x.csv")],
        [("s3://b", "out/x.csv")],
    )


def test_s3_create_object() -> None:
    check(
        "S3CreateObjectOperator",
        {**AWS, "s3_bucket": "b", "s3_key": "flags/done.txt"},
        [],
        [("s3://b", "flags/done.txt")],
    )


def test_s3_file_transform() -> None:
    check(
        "S3FileTransformOperator",
        {"source_s3_key": "s3://a/raw/f.json", "dest_s3_key": "s3://b/clean/f.json"},
        [("s3://a", "raw/f.json")],
        [("s3://b", "clean/f.json")],
    )


def test_s3_to_redshift() -> None:
    check(
        "S3ToRedshiftOperator",
        {
            **AWS,
            "s3_bucket": "in",
            "s3_key": "orders/",
            "schema": "sales",
            "table": "Orders",
            "redshift_conn_id": "redshift_default",
            "redshift_data_api_kwargs": {},
        },
        [("s3://in", "orders")],
        [("redshift://cluster1.eu-west-1:5439", "dev.sales.orders")],
    )


def test_s3_to_redshift_through_the_data_api() -> None:
    found = run(
        make(
            "S3ToRedshiftOperator",
            **AWS,
            s3_bucket="in",
            s3_key="k",
            schema=None,
            table="t",
            redshift_data_api_kwargs={"cluster_identifier": "c2", "database": "db"},
        )
    )
    assert pairs(found)[1] == [("redshift://c2.eu-west-1:5439", "db.public.t")]
    serverless = run(
        make(
            "S3ToRedshiftOperator",
            **AWS,
            s3_bucket="in",
            s3_key="k",
            table="t",
            redshift_data_api_kwargs={"workgroup_name": "wg", "database": "db"},
        )
    )
    assert pairs(serverless)[1] == [] and "account id" in serverless.errors[0]


def test_redshift_to_s3() -> None:
    check(
        "RedshiftToS3Operator",
        {
            "redshift_conn_id": "redshift_default",
            "schema": "sales",
            "table": "orders",
            "select_query": None,
            "s3_bucket": "out",
            "s3_key": "unload/orders_",
        },
        [("redshift://cluster1.eu-west-1:5439", "dev.sales.orders")],
        [("s3://out", "unload/orders_")],
        end={"s3_key": "unload/orders_/orders_"},  # what execute's first step makes of it
    )
    query = run(
        make(
            "RedshiftToS3Operator",
            redshift_conn_id="redshift_default",
            table=None,
            select_query="SELECT * FROM a.b",
            s3_bucket="out",
            s3_key="k",
        )
    )
    assert query.sql == [SqlToParse("SELECT * FROM a.b", conn_id="redshift_default")]


def test_redshift_to_s3_names_the_same_prefix_after_execute_appended_the_tables_file_name() -> None:
    # RedshiftToS3Operator.execute starts with s3_key = f"{s3_key}/{table}_" (table_as_file_name)
    check(
        "RedshiftToS3Operator",
        {
            "redshift_conn_id": "redshift_default",
            "schema": "marts",
            "table": "sessions",
            "select_query": None,
            "s3_bucket": "exports",
            "s3_key": "sessions/2026-11-01/",
            "table_as_file_name": True,
        },
        [("redshift://cluster1.eu-west-1:5439", "dev.marts.sessions")],
        [("s3://exports", "sessions/2026-11-01")],
        end={"s3_key": "sessions/2026-11-01//sessions_"},
    )
    kept = make(
        "RedshiftToS3Operator",
        redshift_conn_id="redshift_default",
        schema="marts",
        table="sessions",
        select_query=None,
        s3_bucket="exports",
        s3_key="sessions/2026-11-01//sessions_",
        table_as_file_name=False,  # the key is the user's: nothing was appended
    )
    assert pairs(run(kept, at_end=True))[1] == [("s3://exports", "sessions/2026-11-01//sessions_")]


def test_redshift_data() -> None:
    sql = "INSERT INTO a SELECT * FROM b"
    check(
        "RedshiftDataOperator",
        {
            **AWS,
            "cluster_identifier": "c1",
            "database": "dev",
            "workgroup_name": None,
            "sql": sql,
            "statement_id": None,
        },
        [],
        [],
        [
            SqlToParse(
                sql,
                namespace="redshift://c1.eu-west-1:5439",
                dialect="redshift",
                database="dev",
                schema="public",
                case="lower",
            )
        ],
        end={"statement_id": "st-1"},
        query=("st-1", "redshift"),
    )


def test_redshift_sql() -> None:
    check(
        "RedshiftSQLOperator",
        {"redshift_conn_id": "redshift_default", "sql": "SELECT 1 FROM t"},
        [],
        [],
        [SqlToParse("SELECT 1 FROM t", conn_id="redshift_default")],
    )


def test_athena() -> None:
    sql = "INSERT INTO agg SELECT * FROM events"
    check(
        "AthenaOperator",
        {
            "aws_conn_id": "aws_prefixed",
            "region_name": None,
            "query": sql,
            "database": "web",
            "catalog": "AwsDataCatalog",
            "output_location": "s3://athena-results/q/",
            "query_execution_id": None,
        },
        [],
        [("s3://athena-results", "q")],
        [
            SqlToParse(
                sql,
                namespace="awsathena://athena.us-east-2.amazonaws.com",
                dialect="athena",
                database="AwsDataCatalog",
                schema="web",
                case="lower",
            )
        ],
        end={"query_execution_id": "qe-1"},
        query=("qe-1", "athena"),
    )


def test_athena_without_a_region_names_no_table() -> None:
    found = run(make("AthenaOperator", aws_conn_id="aws_no_region", query="SELECT 1 FROM t", database="web"))
    assert found.sql == [] and pairs(found) == ([], [])
    assert found.errors == [
        "AthenaOperator: tables left out: no region (set region_name or the AWS connection's region_name)"
    ]


def test_sql_to_s3() -> None:
    check(
        "SqlToS3Operator",
        {
            **AWS,
            "sql_conn_id": "pg",
            "query": "SELECT * FROM raw.customers",
            "s3_bucket": "b",
            "s3_key": "exports/customers.parquet",
        },
        [],
        [("s3://b", "exports/customers.parquet")],
        [SqlToParse("SELECT * FROM raw.customers", conn_id="pg")],
    )


def test_s3_to_sql() -> None:
    check(
        "S3ToSqlOperator",
        {
            **AWS,
            "sql_conn_id": "mysql",
            "s3_bucket": "b",
            "s3_key": "in/c.csv",
            "schema": None,
            "table": "customers",
        },
        [("s3://b", "in/c.csv")],
        [("mysql://my.acme:3306", "crm.customers")],
    )


def test_gcs_to_s3() -> None:
    check(
        "GCSToS3Operator",
        {
            "gcp_conn_id": "google_cloud_default",
            "gcs_bucket": "g",
            "prefix": "exports/",
            "dest_s3_key": "s3://b/imports/",
        },
        [("gs://g", "exports")],
        [("s3://b", "imports")],
    )


def test_dynamodb_to_s3() -> None:
    found = check(
        "DynamoDBToS3Operator",
        {**AWS, "dynamodb_table_name": "users", "s3_bucket_name": "b", "s3_key_prefix": "ddb/users/"},
        [],
        [("s3://b", "ddb/users")],
    )
    assert "DynamoDB tables have no OpenLineage name" in found.errors[0]


# --- snowflake ------------------------------------------------------------------------------------
def test_copy_from_external_stage() -> None:
    found = check(
        "CopyFromExternalStageToSnowflakeOperator",
        {
            "snowflake_conn_id": "snowflake_default",
            "table": "orders",
            "schema": "raw",
            "database": None,
            "stage": "ORDERS_STAGE",
            "_result": [],
        },
        [],
        [("snowflake://xy12345", "ANALYTICS.RAW.ORDERS")],
        end={
            "_result": [
                {"file": "s3://landing/orders/a.csv"},
                {"file": "gcs://gl/o/b.csv"},
                {"file": "azure://acct.blob.core.windows.net/cont/d/c.csv"},
            ]
        },
        end_inputs=[
            ("s3://landing", "orders/a.csv"),
            ("gs://gl", "o/b.csv"),
            ("wasbs://cont@acct", "d/c.csv"),
        ],
    )
    start = run(make("CopyFromExternalStageToSnowflakeOperator", table="t", stage="ORDERS_STAGE"))
    assert "stage 'ORDERS_STAGE' points where only Snowflake knows" in start.errors[0]
    assert found.errors == []


def test_snowflake_sql_api() -> None:
    check(
        "SnowflakeSqlApiOperator",
        {"snowflake_conn_id": "snowflake_default", "sql": "MERGE INTO a USING b ON 1=1", "query_ids": []},
        [],
        [],
        [SqlToParse("MERGE INTO a USING b ON 1=1", conn_id="snowflake_default")],
        end={"query_ids": ["01b2-q1", "01b2-q2"]},
        query=("01b2-q1", "snowflake"),
    )


# --- common-sql -----------------------------------------------------------------------------------
def test_generic_transfer() -> None:
    check(
        "GenericTransfer",
        {
            "source_conn_id": "mysql",
            "destination_conn_id": "pg",
            "sql": "SELECT * FROM leads",
            "destination_table": "staging.Leads",
        },
        [],
        [("postgres://db.acme:5432", "shop.staging.leads")],
        [SqlToParse("SELECT * FROM leads", conn_id="mysql")],
    )


@pytest.mark.parametrize(
    "name", ["SQLColumnCheckOperator", "SQLTableCheckOperator", "SQLIntervalCheckOperator"]
)
def test_table_checks(name: str) -> None:
    check(
        name,
        {"conn_id": "pg", "table": "orders", "database": None},
        [("postgres://db.acme:5432", "shop.public.orders")],
        [],
    )


@pytest.mark.parametrize("name", ["SQLCheckOperator", "SQLValueCheckOperator", "SQLThresholdCheckOperator"])
def test_sql_checks(name: str) -> None:
    check(
        name,
        {"conn_id": "pg", "sql": "SELECT COUNT(*) FROM orders", "database": "other"},
        [],
        [],
        [SqlToParse("SELECT COUNT(*) FROM orders", conn_id="pg", database="other")],
    )


def test_a_table_on_a_connection_that_names_no_database_is_left_out() -> None:
    found = run(make("SQLColumnCheckOperator", conn_id="nowhere", table="orders"))
    assert pairs(found) == ([], [])
    assert found.errors == [
        "SQLColumnCheckOperator: input left out: orders: connection 'nowhere' names no database"
    ]


# --- databricks, trino ----------------------------------------------------------------------------
def test_databricks_sql() -> None:
    check(
        "DatabricksSqlOperator",
        {
            "databricks_conn_id": "databricks_default",
            "sql": "SELECT * FROM t",
            "catalog": "main",
            "schema": "sales",
        },
        [],
        [],
        [SqlToParse("SELECT * FROM t", conn_id="databricks_default", database="main", schema="sales")],
    )


def test_databricks_copy_into() -> None:
    check(
        "DatabricksCopyIntoOperator",
        {
            "databricks_conn_id": "databricks_default",
            "table_name": "main.sales.orders",
            "file_location": "s3://landing/orders/",
            "_catalog": None,
            "_schema": None,
        },
        [("s3://landing", "orders")],
        [("databricks://dbc-1.cloud.databricks.com", "main.sales.orders")],
    )
    unqualified = run(make("DatabricksCopyIntoOperator", table_name="orders", file_location="dbfs:/mnt/x"))
    assert pairs(unqualified) == ([], [])
    assert len(unqualified.errors) == 2


def test_trino() -> None:
    check(
        "TrinoOperator",
        {"trino_conn_id": "trino_default", "sql": "SELECT 1 FROM s.t"},
        [],
        [],
        [SqlToParse("SELECT 1 FROM s.t", conn_id="trino_default")],
    )


def test_gcs_to_trino() -> None:
    check(
        "GCSToTrinoOperator",
        {
            "trino_conn_id": "trino_default",
            "source_bucket": "g",
            "source_object": "in/a.csv",
            "trino_table": "sales.orders",
        },
        [("gs://g", "in/a.csv")],
        [("trino://trino.acme:8080", "hive.sales.orders")],
    )


# --- sftp -----------------------------------------------------------------------------------------
def test_sftp_to_s3() -> None:
    check(
        "SFTPToS3Operator",
        {
            "sftp_conn_id": "ssh_default",
            "sftp_path": "/exports/a.csv",
            "s3_bucket": "b",
            "s3_key": "in/a.csv",
            "sftp_remote_host": None,
        },
        [("file://sftp.acme.com", "/exports/a.csv")],
        [("s3://b", "in/a.csv")],
    )


def test_s3_to_sftp() -> None:
    check(
        "S3ToSFTPOperator",
        {
            "sftp_conn_id": "ssh_default",
            "sftp_path": "/imports/a.csv",
            "s3_bucket": None,
            "s3_key": "s3://b/out/a.csv",
        },
        [("s3://b", "out/a.csv")],
        [("file://sftp.acme.com", "/imports/a.csv")],
    )


def test_sftp_to_gcs() -> None:
    check(
        "SFTPToGCSOperator",
        {
            "sftp_conn_id": "ssh_default",
            "source_path": "/exports/*.csv",
            "destination_bucket": "g",
            "destination_path": "landing/",
        },
        [("file://sftp.acme.com", "/exports")],
        [("gs://g", "landing")],
    )


def test_sftp_without_a_host_names_no_file() -> None:
    found = run(
        make(
            "SFTPToS3Operator", sftp_conn_id="ftp_no_host", sftp_path="/a.csv", s3_bucket="b", s3_key="a.csv"
        )
    )
    assert pairs(found) == ([], [("s3://b", "a.csv")])
    assert found.errors == ["SFTPToS3Operator: input left out: /a.csv: no SFTP host"]


# --- the dispatch ---------------------------------------------------------------------------------
# --- Airflow 1.10's contrib names, and the google provider's BigQueryExecuteQueryOperator ------------
LEGACY_GCP = {
    "bigquery_conn_id": "google_cloud_default",
    "google_cloud_storage_conn_id": "google_cloud_default",
}


def test_airflow_1_10_google_transfers_read_as_their_providers_successors() -> None:
    check(
        "GoogleCloudStorageToBigQueryOperator",
        {
            **LEGACY_GCP,
            "bucket": "raw",
            "source_objects": ["o/*.csv"],
            "destination_project_dataset_table": "s.t",
        },
        [("gs://raw", "o")],
        [(BQ, "conn-proj.s.t")],
    )
    check(
        "BigQueryToCloudStorageOperator",
        {
            **LEGACY_GCP,
            "source_project_dataset_table": "p.s.t",
            "destination_cloud_storage_uris": ["gs://x/e/*.csv"],
        },
        [(BQ, "p.s.t")],
        [("gs://x", "e")],
    )
    check(
        "GoogleCloudStorageToGoogleCloudStorageOperator",
        {
            "source_bucket": "a",
            "source_object": "in/f.csv",
            "destination_bucket": "b",
            "destination_object": "out/f.csv",
        },
        [("gs://a", "in/f.csv")],
        [("gs://b", "out/f.csv")],
    )
    check(
        "FileToGoogleCloudStorageOperator",
        {"src": "/data/f.csv", "dst": "in/f.csv", "bucket": "raw"},
        [("file", "data/f.csv")],
        [("gs://raw", "in/f.csv")],
    )
    check(
        "S3ToGoogleCloudStorageOperator",
        {"bucket": "s3b", "prefix": "logs/", "dest_gcs": "gs://g/logs/"},
        [("s3://s3b", "logs")],
        [("gs://g", "logs")],
    )


@pytest.mark.parametrize(
    "name, conn_attr",
    [
        ("PostgresToGoogleCloudStorageOperator", "postgres_conn_id"),
        ("MySqlToGoogleCloudStorageOperator", "mysql_conn_id"),
        ("MsSqlToGoogleCloudStorageOperator", "mssql_conn_id"),
    ],
)
def test_airflow_1_10_sql_to_gcs_runs_its_sql_on_the_source_connection(name: str, conn_attr: str) -> None:
    check(
        name,
        {
            **LEGACY_GCP,
            conn_attr: "pg",
            "sql": "SELECT 1 FROM t",
            "bucket": "exports",
            "filename": "t/{}.json",
        },
        [],
        [("gs://exports", "t")],
        [SqlToParse("SELECT 1 FROM t", conn_id="pg")],
    )


@pytest.mark.parametrize("name", ["BigQueryOperator", "BigQueryExecuteQueryOperator"])
def test_a_bigquery_query_operator_names_its_sql_and_destination(name: str) -> None:
    sql = "SELECT * FROM raw.orders"
    check(
        name,
        {**LEGACY_GCP, "sql": sql, "use_legacy_sql": False, "destination_dataset_table": "marts.orders"},
        [],
        [(BQ, "conn-proj.marts.orders")],
        [SqlToParse(sql, namespace=BQ, dialect=BQ, database="conn-proj")],
        end={"job_id": "job_1"},
        query=("job_1", "bigquery"),
    )
    # legacy SQL (the default of both) names tables as [project:dataset.table]: left out, not guessed
    legacy = run(
        make(name, **LEGACY_GCP, sql="SELECT * FROM [acme:raw.orders]", destination_dataset_table=None)
    )
    assert pairs(legacy) == ([], []) and legacy.sql == []
    assert any("legacy SQL" in e for e in legacy.errors)


def test_airflow_1_10_amazon_transfers() -> None:
    check(
        "S3ToRedshiftTransfer",
        {"s3_bucket": "landing", "s3_key": "events", "schema": "raw", "table": "events"},
        [("s3://landing", "events/events")],  # 1.10 copies from s3://<bucket>/<key>/<table>
        [("redshift://cluster1.eu-west-1:5439", "dev.raw.events")],
    )
    check(
        "RedshiftToS3Transfer",
        {
            "s3_bucket": "exports",
            "s3_key": "sessions",
            "schema": "marts",
            "table": "sessions",
            "table_as_file_name": True,
        },
        [("redshift://cluster1.eu-west-1:5439", "dev.marts.sessions")],
        [("s3://exports", "sessions")],
    )
    check(
        "AWSAthenaOperator",
        {
            "query": "SELECT 1",
            "database": "web",
            "output_location": "s3://results/q/",
            "aws_conn_id": "aws_default",
        },
        [],
        [("s3://results", "q")],
        [
            SqlToParse(
                "SELECT 1",
                namespace="awsathena://athena.eu-west-1.amazonaws.com",
                dialect="athena",
                database="AwsDataCatalog",
                schema="web",
                case="lower",
            )
        ],
    )
    check(
        "GoogleCloudStorageToS3Operator",
        {"bucket": "g", "prefix": "exports/", "dest_s3_key": "s3://s/imports/"},
        [("gs://g", "exports")],
        [("s3://s", "imports")],
    )


def test_a_subclass_of_a_known_operator_matches_as_its_base() -> None:
    base = type("GCSToGCSOperator", (), {})
    task = type("MyCompanyCopy", (base,), {})()
    _with(
        task,
        {
            "source_bucket": "a",
            "source_object": "x.csv",
            "destination_bucket": "b",
            "destination_object": "y.csv",
        },
    )
    assert pairs(run(task)) == ([("gs://a", "x.csv")], [("gs://b", "y.csv")])


def test_the_nearest_known_class_wins() -> None:
    """BigQueryCheckOperator subclasses SQLCheckOperator: its SQL runs on BigQuery, not on ``conn_id``."""
    sql_check = type("SQLCheckOperator", (), {})
    task = type("BigQueryCheckOperator", (sql_check,), {})()
    _with(task, {"sql": "SELECT 1 FROM d.t", "project_id": "p", "conn_id": "pg"})
    assert run(task).sql == [SqlToParse("SELECT 1 FROM d.t", namespace=BQ, dialect=BQ, database="p")]


def test_an_unknown_class_is_none() -> None:
    assert operator_lineage(make("PythonOperator"), connection, sql_source) is None


def test_a_connection_that_cannot_be_read_is_a_reason_not_a_raise() -> None:
    found = run(
        make(
            "GCSToBigQueryOperator",
            gcp_conn_id="broken",
            bucket="b",
            source_objects=["a.csv"],
            destination_project_dataset_table="d.t",
        )
    )
    assert pairs(found) == ([("gs://b", "a.csv")], [])
    assert found.errors[0].startswith(
        "GCSToBigQueryOperator: connection 'broken' could not be read: RuntimeError"
    )


def test_an_attribute_that_raises_is_unset() -> None:
    class GCSToGCSOperator:
        source_bucket = "a"
        destination_bucket = "b"

        @property
        def source_object(self) -> str:
            raise RuntimeError("not rendered")

    assert pairs(run(GCSToGCSOperator())) == ([("gs://a", "/")], [("gs://b", "/")])


def test_object_names_follow_the_openlineage_providers() -> None:
    assert [
        object_name(p) for p in ("/dir/file.*", "/dir/pre_*", "dir/file.txt", "dir/", "", "*", "a/b/*/c.csv")
    ] == ["dir", "dir", "dir/file.txt", "dir", "/", "/", "a/b"]


def test_qualified_names_fold_unquoted_parts_only() -> None:
    source = SOURCES["snowflake_default"]
    assert qualified('raw."Mixed"', source) == ("ANALYTICS.RAW.Mixed", "")
    assert qualified("t", SimpleNamespace(database=None, schema="s", name_parts=3, case=None))[0] is None


def test_every_row_of_every_table_is_tested_and_dispatched(request: pytest.FixtureRequest) -> None:
    table = {operator for _, operator, _, _ in families()}
    assert table == set(operators._FAMILY_OF)
    ran = {item.name.split("[")[0] for item in request.session.items if item.module is sys.modules[__name__]}
    if len(ran) < len({name for name in globals() if name.startswith("test_")}):
        pytest.skip("a selection of this file's tests ran: the rows they cover are not all of them")
    assert table == TESTED  # the cases above ran first: pytest keeps the file's order


def test_a_task_loads_only_its_own_family(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in operators.FAMILIES:
        monkeypatch.delitem(sys.modules, f"{operators.__name__}.{module}", raising=False)
    run(make("S3CreateObjectOperator", s3_bucket="b", s3_key="k"))
    loaded = {m for m in operators.FAMILIES if f"{operators.__name__}.{m}" in sys.modules}
    assert loaded == {"amazon"}


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start, end = "<!-- operator-families:start -->\n", "<!-- operator-families:end -->"
    assert start in readme and end in readme, "README.md lost its operator-families markers"
    assert readme.split(start, 1)[1].split(end, 1)[0] == families_markdown()
