"""common-sql operators (GenericTransfer and the check operators): where their datasets are.

Tables are named from the connection that runs their SQL: a transfer's source SQL on
``source_conn_id``, its destination table on ``destination_conn_id``; a check reads its ``table``
or its SQL's tables on ``conn_id``.
"""

from __future__ import annotations

from typing import Dict

from alvin_integration.producers.airflow.extract.operators._base import Context, Row

PROVIDER = "common-sql"


def _generic_transfer(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=ctx.text("source_conn_id"))
    ctx.table(True, ctx.text("destination_conn_id"), ctx.text("destination_table"))


def _check_table(ctx: Context) -> None:
    ctx.table(False, ctx.text("conn_id"), ctx.text("table"), database=ctx.text("database"))


def _check_sql(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=ctx.text("conn_id"), database=ctx.text("database"))


_TABLE = "`table` on `conn_id`"
_SQL = "the SQL's tables on `conn_id`"
OPERATORS: Dict[str, Row] = {
    "GenericTransfer": Row(
        "the SQL's tables on `source_conn_id`",
        "`destination_table` on `destination_conn_id`",
        _generic_transfer,
    ),
    "SQLColumnCheckOperator": Row(_TABLE, "-", _check_table),
    "SQLTableCheckOperator": Row(_TABLE, "-", _check_table),
    "SQLIntervalCheckOperator": Row(_TABLE, "-", _check_table),
    "SQLCheckOperator": Row(_SQL, "-", _check_sql),
    "SQLValueCheckOperator": Row(_SQL, "-", _check_sql),
    "SQLThresholdCheckOperator": Row(_SQL, "-", _check_sql),
}
