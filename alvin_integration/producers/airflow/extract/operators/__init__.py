"""Lineage of the operators data teams run most, from their arguments: one table per provider family.

``operator_lineage(task, connection, sql_source, at_end)`` finds the task's class (or the nearest
class of its MRO) in ``_FAMILY_OF``, imports that family's module then (a task of another class
loads none), and reads the datasets its row says are there. No provider is imported, no hook,
client or connection is opened: the caller passes how to read a connection's fields. A dataset
whose bucket, project, account or region cannot be known is left out, with the reason in
``errors``. Adding an operator is a row in its family's ``OPERATORS`` and one here.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, List, Optional, Tuple

from alvin_integration.producers.airflow.extract.operators._base import (
    Context,
    OperatorLineage,
    Row,
    SqlToParse,
)

__all__ = ["OperatorLineage", "SqlToParse", "families", "families_markdown", "operator_lineage"]

# operator class -> the module of its family (imported on the first task of that family)
_FAMILY_OF: Dict[str, str] = {
    **dict.fromkeys(
        (
            "GCSToBigQueryOperator",
            "BigQueryToGCSOperator",
            "BigQueryToBigQueryOperator",
            "GCSToGCSOperator",
            "BigQueryInsertJobOperator",
            "BigQueryCreateTableOperator",
            "BigQueryCreateEmptyTableOperator",
            "BigQueryCheckOperator",
            "BigQueryValueCheckOperator",
            "BigQueryIntervalCheckOperator",
            "BigQueryColumnCheckOperator",
            "BigQueryTableCheckOperator",
            "LocalFilesystemToGCSOperator",
            "PostgresToGCSOperator",
            "MySQLToGCSOperator",
            "MSSQLToGCSOperator",
            "OracleToGCSOperator",
            "TrinoToGCSOperator",
            "PrestoToGCSOperator",
            "S3ToGCSOperator",
            "DataprocSubmitJobOperator",
            "BigQueryExecuteQueryOperator",
            # Airflow 1.10's contrib names
            "GoogleCloudStorageToBigQueryOperator",
            "BigQueryToCloudStorageOperator",
            "GoogleCloudStorageToGoogleCloudStorageOperator",
            "BigQueryOperator",
            "FileToGoogleCloudStorageOperator",
            "PostgresToGoogleCloudStorageOperator",
            "MySqlToGoogleCloudStorageOperator",
            "MsSqlToGoogleCloudStorageOperator",
            "S3ToGoogleCloudStorageOperator",
        ),
        "google",
    ),
    **dict.fromkeys(
        (
            "S3CopyObjectOperator",
            "S3CreateObjectOperator",
            "S3FileTransformOperator",
            "S3ToRedshiftOperator",
            "RedshiftToS3Operator",
            "RedshiftDataOperator",
            "RedshiftSQLOperator",
            "AthenaOperator",
            "SqlToS3Operator",
            "S3ToSqlOperator",
            "GCSToS3Operator",
            "DynamoDBToS3Operator",
            # Airflow 1.10's names
            "S3ToRedshiftTransfer",
            "RedshiftToS3Transfer",
            "AWSAthenaOperator",
            "GoogleCloudStorageToS3Operator",
        ),
        "amazon",
    ),
    **dict.fromkeys(("CopyFromExternalStageToSnowflakeOperator", "SnowflakeSqlApiOperator"), "snowflake"),
    **dict.fromkeys(
        (
            "GenericTransfer",
            "SQLColumnCheckOperator",
            "SQLTableCheckOperator",
            "SQLIntervalCheckOperator",
            "SQLCheckOperator",
            "SQLValueCheckOperator",
            "SQLThresholdCheckOperator",
        ),
        "common_sql",
    ),
    **dict.fromkeys(("DatabricksSqlOperator", "DatabricksCopyIntoOperator"), "databricks"),
    **dict.fromkeys(("TrinoOperator", "GCSToTrinoOperator"), "trino"),
    **dict.fromkeys(("SFTPToS3Operator", "S3ToSFTPOperator", "SFTPToGCSOperator"), "sftp"),
}
FAMILIES = ("google", "amazon", "snowflake", "common_sql", "databricks", "trino", "sftp")
_PACKAGE = __name__


def _family(module: str) -> Any:
    return importlib.import_module(f"{_PACKAGE}.{module}")


def known_operator(task: Any) -> Optional[Tuple[str, Row]]:
    """The name and row of the nearest class of the task's MRO that a family knows; None if none."""
    try:
        classes = type(task).__mro__
    except Exception:
        return None
    for cls in classes:
        module = _FAMILY_OF.get(getattr(cls, "__name__", ""))
        if module is not None:
            return cls.__name__, _family(module).OPERATORS[cls.__name__]
    return None


def operator_lineage(
    task: Any,
    connection: Callable[[str], Optional[Any]],
    sql_source: Callable[[str], Optional[Any]],
    at_end: bool = False,
) -> Optional[OperatorLineage]:
    """The datasets the task's arguments name (and, ``at_end``, what it recorded); None for a class
    no family knows. Never raises: a failure is one more entry of ``errors``.

    ``connection(conn_id)``: an Airflow Connection (or alike: ``conn_type``, ``host``, ``port``,
    ``schema``, ``extra_dejson``/``extra``) or None, never opened. ``sql_source(conn_id)``: where
    SQL on that connection runs (``namespace``, ``database``, ``schema``, ``name_parts``, ``case``,
    as ``extract.connections.sql_source`` gives) or None.
    """
    try:
        known = known_operator(task)
    except Exception as exc:  # a family module that cannot load
        return OperatorLineage(errors=[f"operator families: {type(exc).__name__}: {exc}"])
    if known is None:
        return None
    ctx = Context(task, connection, sql_source, at_end)
    try:
        known[1].extract(ctx)
    except Exception as exc:  # whatever a user's subclass holds
        ctx.error(f"{type(exc).__name__}: {exc}")
    return ctx.lineage


def families() -> List[Tuple[str, str, str, str]]:
    """Every row of every family: (provider, operator class, inputs, outputs)."""
    rows = []
    for module in FAMILIES:
        family = _family(module)
        for operator, row in family.OPERATORS.items():
            rows.append((family.PROVIDER, operator, row.inputs, row.outputs))
    return rows


def families_markdown() -> str:
    """The README's table of the families (between its ``operator-families`` markers)."""
    lines = ["| provider | operator | inputs | outputs |", "|---|---|---|---|"]
    lines += [
        f"| {provider} | `{operator}` | {inputs} | {outputs} |"
        for provider, operator, inputs, outputs in families()
    ]
    return "\n".join(lines) + "\n"
