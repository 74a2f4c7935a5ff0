"""Every connection type we name, by value, with and without a port: a default port is part of the name.

A dataset named ``postgres://db`` never joins ``postgres://db:5432`` that everyone else reports, so
changing a default port (or dropping it) must break a row here. No SQL parser and no Airflow needed:
the namespace comes from the connection's fields alone.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

import pytest

from alvin_integration.producers.airflow.extract import connections
from alvin_integration.producers.airflow.extract.connections import sql_source

HOST = "db.example.com"


def conn(conn_type: str, host: Optional[str] = HOST, port: Optional[int] = None, **extra: Any) -> Any:
    return SimpleNamespace(conn_type=conn_type, host=host, port=port, schema="warehouse", extra_dejson=extra)


# conn_type: (the namespace without a port, with port 1234). The defaults are written out, not read
# from the module: a changed default fails here.
HOST_PORT_NAMESPACES = {
    "postgres": ("postgres://db.example.com:5432", "postgres://db.example.com:1234"),
    "postgresql": ("postgres://db.example.com:5432", "postgres://db.example.com:1234"),
    "mysql": ("mysql://db.example.com:3306", "mysql://db.example.com:1234"),
    "mariadb": ("mysql://db.example.com:3306", "mysql://db.example.com:1234"),
    "mssql": ("mssql://db.example.com:1433", "mssql://db.example.com:1234"),
    "trino": ("trino://db.example.com:8080", "trino://db.example.com:1234"),
    "presto": ("presto://db.example.com:8080", "presto://db.example.com:1234"),
    "oracle": ("oracle://db.example.com:1521", "oracle://db.example.com:1234"),
    "hive_cli": ("hive://db.example.com:10000", "hive://db.example.com:1234"),
    "hiveserver2": ("hive://db.example.com:10000", "hive://db.example.com:1234"),
    "teradata": ("teradata://db.example.com:1025", "teradata://db.example.com:1234"),
    "vertica": ("vertica://db.example.com:5433", "vertica://db.example.com:1234"),
    "exasol": ("exasol://db.example.com:8563", "exasol://db.example.com:1234"),
    "db2": ("db2://db.example.com:50000", "db2://db.example.com:1234"),
}


@pytest.mark.parametrize("conn_type", sorted(HOST_PORT_NAMESPACES))
def test_a_host_and_port_database_is_named_with_its_port_default_included(conn_type: str) -> None:
    without_port, with_port = HOST_PORT_NAMESPACES[conn_type]
    assert getattr(sql_source(conn(conn_type)), "namespace", None) == without_port
    assert getattr(sql_source(conn(conn_type, port=1234)), "namespace", None) == with_port
    default_port = int(without_port.rsplit(":", 1)[1])  # written out: the default named explicitly
    assert getattr(sql_source(conn(conn_type, port=default_port)), "namespace", None) == without_port
    assert sql_source(conn(conn_type, host=None)) is None  # no host: no place to name


def test_the_table_covers_every_host_and_port_type_the_module_names() -> None:
    assert set(HOST_PORT_NAMESPACES) == set(connections._HOST_PORT)


@pytest.mark.parametrize(
    ("connection", "namespace"),
    [
        (
            conn("redshift", "analytics.abc123.eu-west-1.redshift.amazonaws.com"),
            "redshift://analytics.eu-west-1:5439",
        ),
        (
            conn("redshift", "analytics.abc123.eu-west-1.redshift.amazonaws.com", 5440),
            "redshift://analytics.eu-west-1:5440",
        ),
        (
            conn("redshift", "proxy.local", cluster_identifier="analytics", region="us-east-1"),
            "redshift://analytics.us-east-1:5439",
        ),
        (conn("redshift", None, cluster_identifier="analytics"), "redshift://analytics:5439"),
        (conn("snowflake", None, account="MyOrg-MyAccount"), "snowflake://myorg-myaccount"),
        (
            conn("snowflake", None, extra__snowflake__account="xy12345.eu-west-1"),
            "snowflake://xy12345.eu-west-1",
        ),
        (conn("snowflake", "XY12345", 443), "snowflake://xy12345"),  # a port is never part of it
        (conn("google_cloud_platform", None, project="acme-prod"), "bigquery"),
        (conn("gcpbigquery", None), "bigquery"),
        (conn("bigquery", None, project_id="acme-prod"), "bigquery"),
        (conn("databricks", "adb-1.azuredatabricks.net"), "databricks://adb-1.azuredatabricks.net"),
        (conn("databricks", "adb-1.azuredatabricks.net", 443), "databricks://adb-1.azuredatabricks.net"),
        (conn("sqlite", "/data/app.db"), "sqlite:///data/app.db"),
        (conn("sqlite", None), "sqlite://warehouse"),  # the file in the schema field
        (conn("cassandra", "cass.local"), "cassandra://cass.local"),  # a type we know no default of
        (conn("cassandra", "cass.local", 9042), "cassandra://cass.local:9042"),
    ],
    ids=lambda value: value if isinstance(value, str) else f"{value.conn_type}:{value.port}",
)
def test_warehouses_are_named_by_value(connection: Any, namespace: str) -> None:
    assert getattr(sql_source(connection), "namespace", None) == namespace


def test_the_bigquery_project_of_a_connection_qualifies_its_tables() -> None:
    source = sql_source(conn("google_cloud_platform", None, project="acme-prod"))
    assert source is not None and source.database == "acme-prod"
    assert (
        getattr(sql_source(conn("google_cloud_platform", None), default_project="p2"), "database", None)
        == "p2"
    )


@pytest.mark.parametrize("conn_type", ["redshift", "snowflake", "databricks"])
def test_a_warehouse_without_a_place_names_nothing(conn_type: str) -> None:
    assert sql_source(conn(conn_type, host=None)) is None
