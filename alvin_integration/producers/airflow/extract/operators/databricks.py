"""Databricks operators: where their datasets are.

Tables are named from the Databricks connection (``databricks://<host>``, ``catalog.schema.table``),
qualified by the operator's ``catalog`` and ``schema``; a COPY INTO's files by their URL.
"""

from __future__ import annotations

from typing import Dict

from alvin_integration.producers.airflow.extract.operators._base import Context, Row, prefix_name, url_dataset

PROVIDER = "databricks"


def _conn_id(ctx: Context) -> str:
    return ctx.text("databricks_conn_id", "conn_id") or "databricks_default"


def _sql(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=_conn_id(ctx), database=ctx.text("catalog"), schema=ctx.text("schema"))


def _copy_into(ctx: Context) -> None:
    location = ctx.text("file_location")
    if location:
        ctx.add(
            False,
            url_dataset(location, prefix_name),
            f"{location}: a location we do not name (dbfs:, a volume)",
        )
    ctx.table(
        True, _conn_id(ctx), ctx.text("table_name"), database=ctx.text("_catalog"), schema=ctx.text("_schema")
    )


OPERATORS: Dict[str, Row] = {
    "DatabricksSqlOperator": Row(
        "the SQL's tables on `databricks_conn_id` (`catalog`, `schema`)", "the SQL's tables", _sql
    ),
    "DatabricksCopyIntoOperator": Row(
        "`file_location` (s3, gs, abfss, wasbs)", "`table_name` on `databricks_conn_id`", _copy_into
    ),
}
