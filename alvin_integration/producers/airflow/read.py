"""Reading a task try from a task instance of any Airflow version (1.10 to 3.x), defensively.

Adapters pass in the few values that differ between versions (which try a callback is about, the
state, the error); everything else is read here by attribute. Nothing here talks to the network
or raises into the host: callers are guarded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from alvin_integration.bounded import put_bounded
from alvin_integration.model import Dataset, Facet, iso_time, task_run_id
from alvin_integration.producers.airflow.host_attrs import read_attr, short_text

# The connections SQL runs on, as operators name them, in the order they are looked for.
SQL_CONN_ID_ATTRIBUTES = (
    "conn_id",
    "sql_conn_id",
    "source_conn_id",
    "postgres_conn_id",
    "mysql_conn_id",
    "mssql_conn_id",
    "oracle_conn_id",
    "snowflake_conn_id",
    "trino_conn_id",
    "presto_conn_id",
    "redshift_conn_id",
    "databricks_conn_id",
    "sqlite_conn_id",
    "vertica_conn_id",
    "exasol_conn_id",
    "teradata_conn_id",
    "jdbc_conn_id",
    "odbc_conn_id",
    "hiveserver2_conn_id",
    "hive_cli_conn_id",
)
# A cloud platform's connection runs the SQL of the platform's own operators (BigQuery's jobs), but
# is a transfer's destination (the GCS of PostgresToGCSOperator, the S3 of SqlToS3Operator).
PLATFORM_CONN_ID_ATTRIBUTES = (
    "gcp_conn_id",
    "bigquery_conn_id",
    "google_cloud_storage_conn_id",
    "aws_conn_id",
)
CONN_ID_ATTRIBUTES = (
    *SQL_CONN_ID_ATTRIBUTES,
    *PLATFORM_CONN_ID_ATTRIBUTES,
    "http_conn_id",
    "ssh_conn_id",
)
# <Source>To<Destination>Operator (or 1.10's ...Transfer): its SQL runs on its source's connection.
_TRANSFER = re.compile(r"^([A-Z][A-Za-z0-9]*?)To[A-Z][A-Za-z0-9]*?(?:Operator|Transfer)?$")


@dataclass
class TaskTry:
    """What we report of one task try, read from a task instance of any Airflow version."""

    dag_id: str
    task_id: str
    dag_run_id: str
    try_number: int
    state: Optional[str]
    max_tries: Optional[int] = None
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    duration: Optional[float] = None
    pool: Optional[str] = None
    operator: Optional[str] = None
    conn_id: Optional[str] = None
    map_index: Optional[int] = None
    sql: Optional[str] = None
    nominal_start: Optional[datetime] = None
    nominal_end: Optional[datetime] = None
    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    error: Optional[BaseException] = None
    error_text: Optional[str] = None
    external_ids: Dict[str, Any] = field(default_factory=dict)
    run_facets: Dict[str, Facet] = field(default_factory=dict)  # found with the lineage (extractionError)
    task: Any = field(default=None, repr=False, compare=False)  # the operator, for lineage extraction

    @property
    def job_name(self) -> str:
        """``<dag_id>.<task_id>``."""
        return f"{self.dag_id}.{self.task_id}"

    @property
    def run_id(self) -> str:
        """The deterministic run id of this try (a mapped task's index is part of the task)."""
        task = self.task_id if self.map_index in (None, -1) else f"{self.task_id}[{self.map_index}]"
        return task_run_id(self.dag_id, task, self.dag_run_id, self.try_number)


def split_error(error: Any) -> Tuple[Optional[BaseException], Optional[str]]:
    """What a failure callback passed as the error: an exception, or text (some versions pass text)."""
    if isinstance(error, BaseException):
        return error, None
    return None, (str(error) if error else None)


def sql_of(task: Any) -> Optional[str]:
    """The SQL an operator runs (a list of statements joined by ``;``), or None.

    ``sql`` on SQL operators; BigQueryInsertJobOperator keeps it in ``configuration.query.query``.
    """
    sql = read_attr(task, "sql")
    configuration = read_attr(task, "configuration")
    if sql is None and isinstance(configuration, dict) and isinstance(configuration.get("query"), dict):
        sql = configuration["query"].get("query")
    if sql is None:
        return None
    if isinstance(sql, (list, tuple)):
        return ";\n".join(str(statement) for statement in sql)
    return sql if isinstance(sql, str) else None


def _created_hook(task: Any) -> Any:
    """The hook a SQL operator already created (``_hook`` is a cached property: never create it here)."""
    try:
        return vars(task).get("_hook")
    except TypeError:  # no __dict__
        return None


def _first_conn_id(task: Any, names: Tuple[str, ...]) -> Optional[str]:
    return next((v for v in (read_attr(task, n) for n in names) if isinstance(v, str) and v), None)


def conn_id_of(task: Any) -> Optional[str]:
    """The Airflow connection id an operator works with: the one its SQL runs on, else the first named."""
    conn_id, _ = sql_conn_id_of(task)
    return conn_id or _first_conn_id(task, CONN_ID_ATTRIBUTES)


def sql_conn_id_of(task: Any) -> Tuple[Optional[str], Optional[str]]:
    """The connection an operator's SQL runs on, which names its tables; else None and why.

    A transfer's SQL runs on its source (``postgres_conn_id`` of PostgresToGCSOperator,
    ``sql_conn_id`` of SqlToS3Operator, ``source_conn_id`` of GenericTransfer), never on its
    destination's connection (``gcp_conn_id``, ``aws_conn_id``, ``destination_conn_id``): a table
    named from the destination would be one that does not exist.
    """
    name = type(task).__name__
    match = _TRANSFER.match(name)
    if match is None and name != "GenericTransfer":
        return _first_conn_id(task, SQL_CONN_ID_ATTRIBUTES + PLATFORM_CONN_ID_ATTRIBUTES), None
    source = (match.group(1) if match else "").lower()  # "postgres", "mysql", "sql", "hive"...
    names = (
        "source_conn_id",
        *(
            attribute
            for attribute in SQL_CONN_ID_ATTRIBUTES
            if source and (attribute.startswith(source) or (source == "sql" and attribute == "conn_id"))
        ),
    )
    conn_id = _first_conn_id(task, names)
    if conn_id is None:
        return None, f"{name} is a transfer and names no connection its SQL runs on (its source's)"
    return conn_id, None


def read_task_try(
    ti: Any, try_number: int, state: Optional[str], dag_run: Any = None, error: Any = None
) -> TaskTry:
    """Read a task instance of any version; ``try_number``, ``state`` and ``error`` come from the adapter."""
    task = read_attr(ti, "task")
    execution_date = read_attr(ti, "execution_date")
    dag_run_id, nominal_start, nominal_end = _dag_run_facts(ti, dag_run, execution_date)
    start, end = read_attr(ti, "start_date"), read_attr(ti, "end_date")
    duration = read_attr(ti, "duration")
    if duration is None and isinstance(start, datetime) and isinstance(end, datetime):
        duration = (end - start).total_seconds()
    external = {
        key: value
        for key, value in (
            ("bigquery_job_id", read_attr(task, "job_id")),
            ("project_id", read_attr(task, "project_id")),
            ("query_ids", read_attr(task, "query_ids") or read_attr(_created_hook(task), "query_ids")),
        )
        if isinstance(value, str) or (key == "query_ids" and isinstance(value, list) and value)
    }
    exc, error_text = split_error(error)
    return TaskTry(
        dag_id=str(read_attr(ti, "dag_id")),
        task_id=str(read_attr(ti, "task_id")),
        dag_run_id=dag_run_id,
        try_number=int(try_number),
        state=state,
        max_tries=read_attr(ti, "max_tries"),
        start=start,
        end=end,
        duration=float(duration) if isinstance(duration, (int, float)) else None,
        pool=short_text(read_attr(ti, "pool") or read_attr(task, "pool")),  # 3.x: the task's only
        operator=type(task).__name__ if task is not None else short_text(read_attr(ti, "operator")),
        conn_id=conn_id_of(task),
        map_index=read_attr(ti, "map_index"),
        sql=sql_of(task),
        nominal_start=nominal_start,
        nominal_end=nominal_end,
        error=exc,
        error_text=error_text,
        external_ids=external,
        task=task,
    )


# (dag_id, DAG run id) -> (DAG run id, nominal start, nominal end): what a DAG run's tries need of it,
# read once per process (its every try's START and end would each query the metadata database).
_dag_runs: Dict[Tuple[str, str], Tuple[str, Any, Any]] = {}


def _dag_run_facts(ti: Any, dag_run: Any, execution_date: Any) -> Tuple[str, Any, Any]:
    key = (str(read_attr(ti, "dag_id")), str(read_attr(ti, "run_id") or iso_time(execution_date)))
    facts = _dag_runs.get(key) if dag_run is None else None
    if facts is None:
        dag_run = dag_run if dag_run is not None else dag_run_of(ti)
        run_id = str(read_attr(ti, "run_id") or read_attr(dag_run, "run_id") or iso_time(execution_date))
        facts = (run_id, nominal_start_of(dag_run) or execution_date, read_attr(dag_run, "data_interval_end"))
        if dag_run is not None:  # not cached when unread: a later try may read it
            put_bounded(_dag_runs, key, facts, 1_000)
    return facts


def nominal_start_of(dag_run: Any) -> Any:
    """When a DAG run is nominally for: its data interval's start, logical date or ``run_after``."""
    # Airflow 3 manual runs may have no logical date and no data interval; they still have run_after.
    return read_attr(dag_run, "data_interval_start", "logical_date", "execution_date", "run_after")


def dag_run_of(ti: Any) -> Any:
    """The DAG run of a task instance, through the host's own session; None if it cannot be read."""
    try:
        context = getattr(ti, "_ti_context_from_server", None)  # Airflow 3 task SDK
        if context is not None:
            return context.dag_run
        get_dagrun = getattr(ti, "get_dagrun", None)
        if callable(get_dagrun):
            # Through the session the task instance belongs to: Airflow 2.3 and 2.4 call listeners
            # inside the host's flush, where a session of our own would end the host's transaction.
            session = _session_of(ti)
            return get_dagrun(session=session) if session is not None else get_dagrun()
    except Exception:
        return None
    return None


def _session_of(ti: Any) -> Any:
    try:
        from sqlalchemy.orm import object_session

        return object_session(ti)
    except Exception:  # not a mapped object (a test double, the task SDK's)
        return None
