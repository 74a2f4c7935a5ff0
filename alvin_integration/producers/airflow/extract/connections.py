"""Where a task's SQL runs, named from its Airflow connection per OpenLineage's naming conventions.

Reads the connection's fields (type, host, port, schema, extras) as the task's hook does; never
opens it, never reads its password. Unknown types get ``<conn_type>://<host>:<port>``.
"""

from __future__ import annotations

from typing import Any, Optional

from alvin_integration.producers.airflow.extract.sql import SqlSource
from alvin_integration.producers.airflow.host_attrs import connection_extra, connection_extras, read_attr

# conn_type: (namespace scheme, default port, sqlparser dialect, name parts, unquoted name folding)
_HOST_PORT = {
    "postgres": ("postgres", 5432, "postgres", 3, "lower"),
    "postgresql": ("postgres", 5432, "postgres", 3, "lower"),
    "mysql": ("mysql", 3306, "mysql", 2, None),
    "mariadb": ("mysql", 3306, "mysql", 2, None),
    "mssql": ("mssql", 1433, "mssql", 3, None),
    "trino": ("trino", 8080, "trino", 3, "lower"),
    "presto": ("presto", 8080, "trino", 3, "lower"),
    "oracle": ("oracle", 1521, "generic", 3, "upper"),
    "hive_cli": ("hive", 10000, "hive", 2, "lower"),
    "hiveserver2": ("hive", 10000, "hive", 2, "lower"),
    "teradata": ("teradata", 1025, "generic", 2, None),
    "vertica": ("vertica", 5433, "generic", 3, "lower"),
    "exasol": ("exasol", 8563, "generic", 3, "upper"),
    "db2": ("db2", 50000, "generic", 3, "upper"),
}
_GCP = {"google_cloud_platform", "gcpbigquery", "bigquery"}


def sql_source(conn: Any, default_project: Optional[str] = None) -> Optional[SqlSource]:
    """Where SQL on this connection runs; None where the connection names no place."""
    conn_type = str(read_attr(conn, "conn_type") or "").lower().replace("-", "_")
    host, port, schema = read_attr(conn, "host"), read_attr(conn, "port"), read_attr(conn, "schema")
    extras = connection_extras(conn)
    if conn_type in _HOST_PORT:
        scheme, default_port, dialect, parts, case = _HOST_PORT[conn_type]
        if not host:
            return None
        default_schema = "public" if scheme == "postgres" else ("dbo" if scheme == "mssql" else None)
        # the connection's "schema" field holds its database
        return SqlSource(
            f"{scheme}://{host}:{port or default_port}", dialect, schema, default_schema, parts, case
        )
    if conn_type == "sqlite":
        return SqlSource(f"sqlite://{host or schema or ':memory:'}", "sqlite", None, None, 1, None)
    if conn_type == "redshift":
        cluster = connection_extra(extras, "cluster_identifier") or str(host or "").split(".")[0]
        region = connection_extra(extras, "region") or _region_of(str(host or ""))
        if not cluster:
            return None
        where = f"{cluster}.{region}" if region else cluster
        return SqlSource(f"redshift://{where}:{port or 5439}", "redshift", schema, "public", 3, "lower")
    if conn_type == "snowflake":
        account = connection_extra(extras, "account") or host
        if not account:
            return None
        database, warehouse_schema = connection_extra(extras, "database"), schema
        return SqlSource(
            f"snowflake://{str(account).lower()}", "snowflake", database, warehouse_schema, 3, "upper"
        )
    if conn_type in _GCP:
        project = (
            default_project or connection_extra(extras, "project") or connection_extra(extras, "project_id")
        )
        return SqlSource("bigquery", "bigquery", project, None, 3, None)
    if conn_type == "databricks":
        return SqlSource(f"databricks://{host}", "databricks", None, None, 3, None) if host else None
    if conn_type and host:
        return SqlSource(f"{conn_type}://{host}" + (f":{port}" if port else ""), None, schema, None, 3, None)
    return None


def _region_of(host: str) -> Optional[str]:
    # <cluster>.<id>.<region>.redshift.amazonaws.com
    labels = host.split(".")
    return labels[2] if len(labels) > 4 and labels[3] == "redshift" else None
