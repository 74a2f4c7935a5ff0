"""SQL to tables and columns, named from a connection's fields: no database, no network."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any, Optional

import pytest

from alvin_integration.producers.airflow.extract import sql as sql_module
from alvin_integration.producers.airflow.extract.connections import sql_source
from alvin_integration.producers.airflow.extract.sql import SqlSource, parse_sql, parse_sql_within, prepared

pytest.importorskip("openlineage_sql", reason="SQL lineage needs the [sql] extra (tox installs it)")


def conn(
    conn_type: str,
    host: Optional[str] = None,
    port: Optional[int] = None,
    schema: Optional[str] = None,
    **extra: Any,
) -> SimpleNamespace:
    return SimpleNamespace(
        conn_type=conn_type,
        host=host,
        port=port,
        schema=schema,
        extra_dejson=extra,
        password="s3cr3t-Pa55word",
    )


@pytest.mark.parametrize(
    ("connection", "namespace"),
    [
        (conn("postgres", "db.example.com", None, "warehouse"), "postgres://db.example.com:5432"),
        (conn("mysql", "mysql.local", 3307, "shop"), "mysql://mysql.local:3307"),
        (conn("mssql", "sql.local"), "mssql://sql.local:1433"),
        (conn("trino", "trino.local", 8443), "trino://trino.local:8443"),
        (conn("sqlite", "/data/app.db"), "sqlite:///data/app.db"),
        (
            conn("snowflake", schema="PUBLIC", account="MyOrg-MyAccount", database="DB"),
            "snowflake://myorg-myaccount",
        ),
        (conn("google_cloud_platform", project="my-project"), "bigquery"),
        (
            conn("redshift", "analytics.abc123.eu-west-1.redshift.amazonaws.com", 5439, "dev"),
            "redshift://analytics.eu-west-1:5439",
        ),
        (conn("databricks", "adb-1.azuredatabricks.net"), "databricks://adb-1.azuredatabricks.net"),
    ],
)
def test_a_connection_names_its_namespace_without_its_password(connection: Any, namespace: str) -> None:
    source = sql_source(connection)
    assert source is not None and source.namespace == namespace
    assert "s3cr3t" not in repr(source)


def test_a_connection_without_a_place_names_nothing() -> None:
    assert sql_source(conn("postgres")) is None
    assert sql_source(SimpleNamespace()) is None


def test_an_insert_select_reads_and_writes_tables_qualified_by_the_connection() -> None:
    source = sql_source(conn("postgres", "db", 5432, "warehouse"))
    assert source is not None
    found = parse_sql(
        "INSERT INTO analytics.orders (id, total) SELECT id, amount FROM Staging.Orders WHERE day = %(day)s",
        source,
    )
    assert [(d.namespace, d.name) for d in found.inputs] == [
        ("postgres://db:5432", "warehouse.staging.orders")
    ]
    assert [(d.namespace, d.name) for d in found.outputs] == [
        ("postgres://db:5432", "warehouse.analytics.orders")
    ]
    assert found.error is None
    columns = found.outputs[0].facets["columnLineage"].to_dict()["fields"]
    assert {"namespace": "postgres://db:5432", "name": "warehouse.staging.orders", "field": "id"} in [
        field for column in columns.values() for field in column["inputFields"]
    ]


def test_statement_lists_parameters_and_leftover_jinja_parse() -> None:
    source = SqlSource("sqlite:///tmp/x.db", "sqlite", name_parts=1)
    found = parse_sql(
        [
            "CREATE TABLE IF NOT EXISTS target AS SELECT * FROM source WHERE a = ?",
            "INSERT INTO target SELECT * FROM {{ params.table }} WHERE b = :b {% if x %}{% endif %}",
            "  ",
        ],
        source,
    )
    assert [d.name for d in found.outputs] == ["target"]
    assert "source" in [d.name for d in found.inputs]
    assert prepared("a = %s AND b = %(b)s") == "a = NULL AND b = NULL"


def test_what_cannot_be_parsed_is_an_extraction_error_not_a_raise() -> None:
    source = SqlSource("postgres://db:5432", "postgres", "warehouse", "public")
    found = parse_sql(["SELECT * FROM ok_table", "THIS IS NOT SQL AT ALL ((("], source)
    assert found.error is not None
    error = found.error.to_dict()
    assert error["totalTasks"] == 2 and error["failedTasks"] == 1
    assert error["errors"][0]["taskNumber"] == 1 and error["errors"][0]["errorMessage"]


def test_sql_over_a_megabyte_is_not_parsed_and_says_so() -> None:
    source = SqlSource("postgres://db:5432", "postgres")
    found = parse_sql("SELECT " + ", ".join(f"c{i}" for i in range(200_000)) + " FROM t", source)
    assert found.inputs == [] and found.error is not None
    assert "not parsed" in found.error.to_dict()["errors"][0]["errorMessage"]


def test_without_the_parser_the_sql_stays_and_the_error_says_what_to_install(monkeypatch: Any) -> None:
    monkeypatch.setattr(sql_module, "_parser", None)
    found = parse_sql("INSERT INTO a SELECT * FROM b", SqlSource("postgres://db:5432", "postgres"))
    assert found.inputs == [] and found.outputs == []
    assert found.error is not None and "alvin-integration[sql]" in json.dumps(found.error.to_dict())


def test_a_password_in_sql_reaches_no_dataset_name_and_no_facet() -> None:
    source = SqlSource("snowflake://acct", "snowflake", "DB", "PUBLIC", case="upper")
    found = parse_sql("CREATE USER bob PASSWORD = 'Hunter2-Secret'; SELECT * FROM t WHERE x = 'y'", source)
    text = json.dumps([d.to_dict() for d in found.inputs + found.outputs])
    text += json.dumps(found.error.to_dict() if found.error else {})
    assert "Hunter2-Secret" not in text


def test_a_parse_not_done_in_time_goes_on_and_a_later_call_gets_it() -> None:
    release = threading.Event()
    sql_module._parsing.submit(release.wait)  # the parse worker is busy: nothing parses until released
    source = SqlSource("postgres://db:5432", "postgres", "warehouse", "public")
    sql = "INSERT INTO late.target SELECT * FROM late.source"
    assert parse_sql_within(sql, source, wait=0) is None  # a START that cannot wait
    release.set()
    found = parse_sql_within(sql, source, wait=60)  # the end: the same parse, finished
    assert found is not None and [d.name for d in found.outputs] == ["warehouse.late.target"]


def test_a_starts_parse_waits_only_what_is_left_of_its_budget() -> None:
    """The START's budget counts from the extraction's beginning: time spent before the parse (reading
    the task, its connection) is not waited for again; a try's end waits END_WAIT for each parse."""
    import time

    from alvin_integration.producers.airflow.extract.task_lineage import END_WAIT, ParseWait

    start = ParseWait.starting(at_end=False, start_wait=0.05)
    assert 0 < start.left() <= 0.05 and not start.patient
    time.sleep(0.06)
    assert start.left() == 0.0
    end = ParseWait.starting(at_end=True, start_wait=0.005)
    time.sleep(0.01)
    assert end.left() == END_WAIT and end.patient
    assert ParseWait.starting(at_end=False, start_wait=30.0).patient  # the lineage command's wait
