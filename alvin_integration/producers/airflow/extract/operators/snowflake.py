"""Snowflake operators: where their datasets are.

Tables are ``snowflake://<account>`` and ``DATABASE.SCHEMA.TABLE``, named from the Snowflake
connection as its SQL is. A stage is a name inside Snowflake: where it points (a bucket) is only
known by asking Snowflake, so a COPY's input is left out on START and named at the end from the
files the COPY reported loading.
"""

from __future__ import annotations

from typing import Any, Dict

from alvin_integration.producers.airflow.extract.operators._base import Context, Row, each, url_dataset

PROVIDER = "snowflake"


def _conn_id(ctx: Context) -> str:
    return ctx.text("snowflake_conn_id", "conn_id") or "snowflake_default"


def _copy_from_stage(ctx: Context) -> None:
    ctx.table(
        True, _conn_id(ctx), ctx.text("table"), database=ctx.text("database"), schema=ctx.text("schema")
    )
    if not ctx.at_end:
        stage = ctx.text("stage")
        ctx.error(f"input left out: stage {stage!r} points where only Snowflake knows (named at the end)")
        return
    rows = [row for row in each(ctx.get("_result")) if isinstance(row, dict) and row.get("file")]
    for row in rows:
        uri = str(row["file"])
        ctx.add(False, url_dataset(uri), f"{uri}: not a bucket URI")
    if not rows:
        ctx.error(f"input left out: the COPY from stage {ctx.text('stage')!r} reported no file")


def _sql_api(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=_conn_id(ctx))
    if ctx.at_end:
        ids: Any = ctx.get("query_ids")
        if isinstance(ids, (list, tuple)) and ids:
            ctx.query_id(str(ids[0]), "snowflake")


OPERATORS: Dict[str, Row] = {
    "CopyFromExternalStageToSnowflakeOperator": Row(
        "at the end: the files the COPY loaded (a stage's location is unknown before)",
        "`database`.`schema`.`table` on `snowflake_conn_id`",
        _copy_from_stage,
    ),
    "SnowflakeSqlApiOperator": Row("the SQL's tables on `snowflake_conn_id`", "the SQL's tables", _sql_api),
}
