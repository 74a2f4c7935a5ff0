"""The example DAG the demo and the end-to-end tests run, on every supported Airflow.

A success with inlets and outlets, a failure, a task that fails once and succeeds on retry, a
skipped task and a SQL-bearing operator. Written to parse on Airflow 1.10.15 to 3.x.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Optional

from alvin_integration.examples import EXAMPLE_CONN_ID, EXAMPLE_SQLITE_CONN_ID

try:  # Airflow 3
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG  # type: ignore[attr-defined]
    from airflow.sdk import Asset as _Entity

    def dataset(uri):  # type: ignore[no-untyped-def]
        return _Entity(uri)
except ImportError:  # Airflow 2 / 1.10
    from airflow import DAG

    try:
        from airflow.operators.python import PythonOperator
    except ImportError:  # Airflow 1.10
        from airflow.operators.python_operator import PythonOperator
    try:
        from airflow.lineage.entities import File as _Entity  # Airflow 2
    except ImportError:
        from airflow.lineage.datasets import File as _Entity  # Airflow 1.10

    def dataset(uri):  # type: ignore[no-untyped-def]
        return _Entity(uri)


def lineage(*uris):  # type: ignore[no-untyped-def]
    """Inlets/outlets as this Airflow takes them: Airflow 1.10 wants {"datasets": [...]}."""
    entities = [dataset(uri) for uri in uris]
    return {"datasets": entities} if _Entity.__module__ == "airflow.lineage.datasets" else entities


try:
    from airflow.exceptions import AirflowSkipException
except ImportError:  # pragma: no cover
    AirflowSkipException = Exception  # type: ignore[misc,assignment]

RETRY_MARKER = os.environ.get("ALVIN_EXAMPLE_RETRY_MARKER", "/tmp/alvin_example_retry_marker")


def extract() -> str:
    return "extracted"


def fail() -> None:
    raise ValueError("this task fails on purpose")


def flaky(marker: str) -> str:
    # Fails on its first try, succeeds on the retry (the marker file, one per DAG run, remembers).
    if not os.path.exists(marker):
        open(marker, "w").close()
        raise RuntimeError("first try fails on purpose")
    os.remove(marker)
    return "recovered"


def skip() -> None:
    raise AirflowSkipException("nothing to do today")


class SqlCarrier(PythonOperator):
    """A Python task that carries SQL and a connection id, as SQL operators do (no database is opened:
    alvin-integration names the tables from the SQL and the connection's host, port and database)."""

    def __init__(self, sql: str, conn_id: Optional[str] = None, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self.sql = sql
        self.conn_id = conn_id


try:  # the common SQL operator (Airflow 2.3+ with common-sql 1.3+, 3.x)
    from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator as _SqlOperator

    _CONN_ARGUMENT = "conn_id"
except ImportError:
    try:  # Airflow 2.0-2.2: the SQLite provider's own operator
        from airflow.providers.sqlite.operators.sqlite import SqliteOperator as _SqlOperator
    except ImportError:  # Airflow 1.10
        from airflow.operators.sqlite_operator import SqliteOperator as _SqlOperator
    _CONN_ARGUMENT = "sqlite_conn_id"


class SqliteQuery(_SqlOperator):  # type: ignore[misc,valid-type]
    """SQL that really runs on the example's SQLite database (one class name on every version)."""

    def __init__(self, conn_id: str, **kwargs):  # type: ignore[no-untyped-def]
        kwargs[_CONN_ARGUMENT] = conn_id
        super().__init__(**kwargs)


TRANSFORM_SQL = [
    "CREATE TABLE IF NOT EXISTS raw_orders (id INTEGER, amount REAL)",
    "CREATE TABLE IF NOT EXISTS order_totals (id INTEGER, total REAL)",
    "INSERT INTO order_totals SELECT id, amount * 2 AS total FROM raw_orders",
]


def make_dag(dag_id: str = "alvin_example") -> DAG:
    """A daily DAG, no catch-up, declared as this Airflow version takes it."""
    arguments = dict(dag_id=dag_id, start_date=datetime(2026, 1, 1), catchup=False)
    try:
        return DAG(schedule="@daily", **arguments)  # Airflow 2.4+
    except TypeError:
        return DAG(schedule_interval="@daily", **arguments)  # Airflow 1.10 to 2.3


with make_dag() as dag:
    t_extract = PythonOperator(
        task_id="extract",
        python_callable=extract,
        inlets=lineage("s3://alvin-example/raw/orders.csv"),
        outlets=lineage("s3://alvin-example/clean/orders.parquet"),
    )
    t_load = SqlCarrier(
        task_id="load",
        python_callable=extract,
        sql="INSERT INTO analytics.orders SELECT * FROM staging.orders",
        conn_id=EXAMPLE_CONN_ID,
    )
    t_flaky = PythonOperator(
        task_id="flaky",
        python_callable=flaky,
        op_kwargs={"marker": RETRY_MARKER + "-{{ run_id }}"},
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
    t_fail = PythonOperator(task_id="fail", python_callable=fail)
    t_skip = PythonOperator(task_id="skip", python_callable=skip)
    t_transform = SqliteQuery(task_id="transform", sql=TRANSFORM_SQL, conn_id=EXAMPLE_SQLITE_CONN_ID)
    t_extract >> [t_load, t_flaky]
    t_load >> t_transform
