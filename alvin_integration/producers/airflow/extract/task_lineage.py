"""All the lineage of one task try: declared inlets/outlets, its operator family's table, its SQL's
tables, users' extractors.

Runs on the task's path: no I/O beyond reading the task's Airflow connection (as its hook does, once
per process), no call to a database or vendor API, and nothing raised: a failure is reported in
the ``extractionError`` facet and the event is sent with what was found.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from alvin_integration.model import (
    Dataset,
    ExternalQueryRunFacet,
    ExtractionErrorRunFacet,
    Facet,
    merge_datasets,
)
from alvin_integration.producers.airflow.compat import get_connection
from alvin_integration.producers.airflow.extract.declared import declared_datasets
from alvin_integration.producers.airflow.extract.extractors import run_extractors
from alvin_integration.producers.airflow.extract.hook_lineage import SqlJob, hook_lineage, mark_start
from alvin_integration.producers.airflow.host_attrs import read_attr
from alvin_integration.producers.airflow.read import TaskTry, sql_conn_id_of

if TYPE_CHECKING:  # the SQL modules are imported by the first SQL of a process: most tasks run none
    from alvin_integration.producers.airflow.extract.operators import SqlToParse
    from alvin_integration.producers.airflow.extract.sql import SqlLineage, SqlSource

# How long a try's end waits for its SQL to be parsed (the parse runs on a worker thread, beside the
# task, from its START): after the whole execute, what a parse of up to 1 MB of SQL may still need.
# Its START's whole extraction, SQL parse included, takes at most ALVIN_SQL_START_WAIT_MS (counted
# from its beginning, so that reading the task and its connection come out of the same budget);
# past that the START goes without the tables.
START_WAIT = 0.005
QUICK_SQL = 8_192  # characters: SQL that parses within a START's wait (benchmarks/bench_lineage.py)
END_WAIT = 1.0
_sources: Dict[str, Optional[SqlSource]] = {}  # conn_id -> where its SQL runs, read once per process
_connections: Dict[str, Any] = {}  # conn_id -> its connection's fields, read once per process
Error = Tuple[Optional[int], str, Optional[str]]


@dataclass
class FoundLineage:
    """The datasets a try read and wrote, and run facets saying how they were found."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    run_facets: Dict[str, Facet] = field(default_factory=dict)


@dataclass(frozen=True)
class ParseWait:
    """How long a parse may be waited for: ``END_WAIT`` each at a try's end; at its START, what is
    left of the START's budget (``until``, a ``time.monotonic()`` instant). ``patient``: at least
    ``END_WAIT`` (a try's end, the ``lineage`` command): large SQL is waited for too, and a parse
    not done in time is an error rather than left to the end."""

    at_end: bool
    patient: bool
    until: float

    @classmethod
    def starting(cls, at_end: bool, start_wait: float) -> ParseWait:
        """The wait of an extraction that begins now."""
        return cls(at_end, at_end or start_wait >= END_WAIT, time.monotonic() + start_wait)

    def left(self) -> float:
        """Seconds a parse may be waited for now."""
        return END_WAIT if self.at_end else max(0.0, self.until - time.monotonic())


def _connection_source(conn_id: str) -> Optional[SqlSource]:
    if conn_id not in _sources:
        from alvin_integration.producers.airflow.extract.connections import sql_source  # with the SQL modules

        _sources[conn_id] = sql_source(get_connection(conn_id))
    return _sources[conn_id]


def _source_of(conn_id: str, task: Any) -> Optional[SqlSource]:
    from alvin_integration.producers.airflow.extract.sql import SqlSource

    if type(task).__name__.startswith("BigQuery"):  # always "bigquery"; the project qualifies tables
        project = read_attr(task, "project_id")
        if not isinstance(project, str):
            try:
                project = getattr(_connection_source(conn_id), "database", None)
            except Exception:  # no such connection here: the tables stay unqualified by a project
                project = None
        return SqlSource("bigquery", "bigquery", project, None, 3, None)
    return _connection_source(conn_id)


def _sql_lineage(task_try: TaskTry, found: FoundLineage, errors: List[Error], wait: ParseWait) -> int:
    """Add the tables of the task's SQL; the number of statements looked at."""
    from alvin_integration.producers.airflow.extract.sql import parse_sql_within

    conn_id, why = sql_conn_id_of(task_try.task)  # the connection that runs it, never a destination's
    try:
        source = _source_of(conn_id, task_try.task) if conn_id else None
    except Exception as exc:  # the connection is unknown here, or its secrets backend failed
        errors.append((None, f"connection {conn_id!r} could not be read: {type(exc).__name__}: {exc}", None))
        return 1
    if source is None:
        why = why or (f"connection {conn_id!r} names no database" if conn_id else "no connection")
        errors.append((None, f"tables not named from SQL: {why}", None))
        return 1
    statements = read_attr(task_try.task, "sql")
    if not isinstance(statements, (str, list, tuple)):
        statements = task_try.sql or ""
    # SQL over QUICK_SQL parses longer than a START may wait: it runs beside the task instead
    left = 0.0 if not wait.patient and len(task_try.sql or "") > QUICK_SQL else wait.left()
    return _add_parsed(parse_sql_within(statements, source, left), wait, found, errors)


def _add_parsed(sql: Optional[SqlLineage], wait: ParseWait, found: FoundLineage, errors: List[Error]) -> int:
    """Add what a parse found and could not read; the number of statements looked at."""
    if sql is None:
        if wait.patient:
            errors.append((None, f"the SQL was not parsed within {END_WAIT:g} s", None))
        return 1  # at START: the end will have it
    merge_datasets(found.inputs, sql.inputs)
    merge_datasets(found.outputs, sql.outputs)
    if sql.error is None:
        return 1
    errors.extend(sql.error.errors)
    return sql.error.total_tasks


def _connection(conn_id: str) -> Any:
    """The connection's fields as its hook reads them (never opened), read once per process."""
    if conn_id not in _connections:
        _connections[conn_id] = get_connection(conn_id)
    return _connections[conn_id]


def _operator_lineage(
    task_try: TaskTry, found: FoundLineage, errors: List[Error], wait: ParseWait, at_end: bool
) -> int:
    """Add what the operator's family table says it reads and writes; -1 if no family knows it, else
    the number of parts looked at (its SQL is parsed here: the generic SQL path then stays out)."""
    from alvin_integration.producers.airflow.extract.operators import operator_lineage

    family = operator_lineage(task_try.task, _connection, _connection_source, at_end)
    if family is None:
        return -1
    merge_datasets(found.inputs, family.inputs)
    merge_datasets(found.outputs, family.outputs)
    found.run_facets.update(family.run_facets)
    errors.extend((None, message, None) for message in family.errors)
    looked_at = len(family.errors)
    for part in family.sql:
        looked_at += _parse_part(part, found, errors, wait)
    return looked_at


def _parse_part(part: SqlToParse, found: FoundLineage, errors: List[Error], wait: ParseWait) -> int:
    """Add the tables of SQL an operator family found, where it runs; the statements looked at."""
    from alvin_integration.producers.airflow.extract.sql import SqlSource, parse_sql_within

    source: Optional[SqlSource]
    if part.namespace:
        source = SqlSource(
            part.namespace, part.dialect, part.database, part.schema, part.name_parts, part.case
        )
    else:
        source = _connection_source(part.conn_id) if part.conn_id else None
        if source is not None:
            source = replace(
                source, database=part.database or source.database, schema=part.schema or source.schema
            )
    if source is None:
        where = f"connection {part.conn_id!r} names no database" if part.conn_id else "no connection runs it"
        errors.append((None, f"tables not named from SQL: {where}", None))
        return 1
    return _add_parsed(parse_sql_within(part.sql, source, wait.left()), wait, found, errors)


def _hook_sql(job: SqlJob, found: FoundLineage, errors: List[Error]) -> Optional[str]:
    """Add the tables of one statement a hook ran; the query source (``snowflake``...) if known."""
    from alvin_integration.producers.airflow.extract.sql import parse_sql_within

    source = _connection_source(job.conn_id) if job.conn_id else None
    if source is None:
        return None
    source = replace(
        source, database=job.default_db or source.database, schema=job.default_schema or source.schema
    )
    sql = parse_sql_within(job.sql, source, END_WAIT)
    if sql is None:
        errors.append((None, f"SQL a hook ran was not parsed within {END_WAIT:g} s", None))
        return None
    merge_datasets(found.inputs, sql.inputs)
    merge_datasets(found.outputs, sql.outputs)
    if sql.error is not None:
        errors.extend(sql.error.errors)
    return source.namespace.split(":", 1)[0]


def _at_end(task_try: TaskTry, found: FoundLineage, errors: List[Error]) -> None:
    """What only the end of a try knows: what its hooks collected, the warehouse job ids it ran."""
    queries: List[Tuple[str, str]] = []  # (query id, source)
    try:
        collected = hook_lineage(task_try.run_id)
        merge_datasets(found.inputs, collected.inputs)
        merge_datasets(found.outputs, collected.outputs)
        for job in collected.sql_jobs:
            kind = _hook_sql(job, found, errors)
            if job.job_id and kind:
                queries.append((job.job_id, kind))
    except Exception as exc:
        errors.append((None, f"hook lineage: {type(exc).__name__}: {exc}", None))
    ids = task_try.external_ids
    if ids.get("bigquery_job_id"):
        queries.insert(0, (str(ids["bigquery_job_id"]), "bigquery"))
    for query_id in ids.get("query_ids") or []:
        source = _sources.get(task_try.conn_id or "")
        queries.append((str(query_id), source.namespace.split(":", 1)[0] if source else "snowflake"))
    if queries:
        found.run_facets["externalQuery"] = ExternalQueryRunFacet(*queries[0])
        if len(queries) > 1 and "query_ids" not in ids:
            ids["query_ids"] = [query for query, _ in queries]


def lineage_of(
    task_try: TaskTry, extractors: Optional[str] = None, at_end: bool = False, start_wait: float = START_WAIT
) -> FoundLineage:
    """Declared datasets, the tables of the task's SQL, what its hooks collected (``at_end``) and what
    users' extractors return; never raises.

    ``extractors``: the ``ALVIN_EXTRACTORS`` setting (entry points are always read).
    """
    wait = ParseWait.starting(at_end, start_wait)
    found = FoundLineage()
    errors: List[Error] = []
    looked_at = 0
    try:
        found.inputs, found.outputs = declared_datasets(task_try.task)
    except Exception as exc:
        errors.append((None, f"declared inlets/outlets: {type(exc).__name__}: {exc}", None))
    family = -1
    try:
        family = _operator_lineage(task_try, found, errors, wait, at_end)
        looked_at += max(family, 0)
    except Exception as exc:
        errors.append((None, f"operator lineage: {type(exc).__name__}: {exc}", None))
    if task_try.sql and family < 0:  # an operator family parses its own SQL, where it runs
        try:
            looked_at += _sql_lineage(task_try, found, errors, wait)
        except Exception as exc:
            errors.append((None, f"SQL lineage: {type(exc).__name__}: {exc}", None))
    try:
        extracted = run_extractors(task_try.task, extractors)
        merge_datasets(found.inputs, extracted.inputs)
        merge_datasets(found.outputs, extracted.outputs)
        found.run_facets.update(extracted.run_facets)
        errors.extend((None, message, None) for message in extracted.errors)
        looked_at += len(extracted.errors)
    except Exception as exc:
        errors.append((None, f"extractors: {type(exc).__name__}: {exc}", None))
    if at_end:
        try:
            _at_end(task_try, found, errors)
        except Exception as exc:  # job ids read from a user's operator: whatever they hold
            errors.append((None, f"job ids: {type(exc).__name__}: {exc}", None))
    else:
        try:
            mark_start(task_try.run_id)
        except Exception as exc:
            errors.append((None, f"hook lineage: {type(exc).__name__}: {exc}", None))
    if errors:
        found.run_facets["extractionError"] = ExtractionErrorRunFacet(max(looked_at, len(errors)), errors)
    return found
