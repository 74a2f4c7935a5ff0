"""Trino operators: where their datasets are (``trino://<host>:<port>``, ``catalog.schema.table``).

SQL on a trino connection through ``SQLExecuteQueryOperator`` is the SQL lineage's already.
"""

from __future__ import annotations

from typing import Dict

from alvin_integration.producers.airflow.extract.operators._base import Context, Row, in_bucket

PROVIDER = "trino"


def _conn_id(ctx: Context) -> str:
    return ctx.text("trino_conn_id", "conn_id") or "trino_default"


def _trino(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=_conn_id(ctx))


def _gcs_to_trino(ctx: Context) -> None:
    ctx.add(
        False, in_bucket("gs", ctx.text("source_bucket"), ctx.text("source_object") or ""), "no source_bucket"
    )
    ctx.table(True, _conn_id(ctx), ctx.text("trino_table"))


OPERATORS: Dict[str, Row] = {
    "TrinoOperator": Row("the SQL's tables on `trino_conn_id`", "the SQL's tables", _trino),
    "GCSToTrinoOperator": Row(
        "GCS `source_bucket` / `source_object`", "`trino_table` on `trino_conn_id`", _gcs_to_trino
    ),
}
