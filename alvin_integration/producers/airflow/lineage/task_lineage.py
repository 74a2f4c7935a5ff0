"""All the lineage of one task try: declared inlets/outlets, then what its SQL reads and writes.

Runs on the task's path: no I/O beyond reading the task's Airflow connection (as its hook does, once
per process), no call to a database or vendor API, and nothing raised: a failure is reported in
the ``extractionError`` facet and the event is sent with what was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from alvin_integration.model import Dataset, ExtractionErrorRunFacet, Facet
from alvin_integration.producers.airflow.attrs import read_attr
from alvin_integration.producers.airflow.lineage.connections import sql_source
from alvin_integration.producers.airflow.lineage.declared import declared_datasets
from alvin_integration.producers.airflow.lineage.sql import SqlSource, parse_sql
from alvin_integration.producers.airflow.read import TaskTry

_sources: Dict[str, Optional[SqlSource]] = {}  # conn_id -> where its SQL runs, read once per process


@dataclass
class FoundLineage:
    """The datasets a try read and wrote, and run facets saying how they were found."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    run_facets: Dict[str, Facet] = field(default_factory=dict)


def _source_of(conn_id: str, task: Any) -> Optional[SqlSource]:
    if conn_id not in _sources:
        from alvin_integration.producers.airflow.adapters import get_connection

        project = read_attr(task, "project_id")
        _sources[conn_id] = sql_source(get_connection(conn_id), project if isinstance(project, str) else None)
    return _sources[conn_id]


def _add(found: List[Dataset], more: List[Dataset]) -> None:
    for dataset in more:
        if all((d.namespace, d.name) != (dataset.namespace, dataset.name) for d in found):
            found.append(dataset)


def lineage_of(task_try: TaskTry) -> FoundLineage:
    """Declared datasets, plus the tables of the task's SQL named from its connection; never raises."""
    found = FoundLineage()
    try:
        found.inputs, found.outputs = declared_datasets(task_try.task)
    except Exception as exc:
        found.run_facets["extractionError"] = _error(f"declared inlets/outlets: {type(exc).__name__}: {exc}")
    if not task_try.sql:
        return found
    try:
        source = _source_of(task_try.conn_id, task_try.task) if task_try.conn_id else None
    except Exception as exc:  # the connection is unknown here, or its backend failed
        found.run_facets["extractionError"] = _error(
            f"connection {task_try.conn_id!r} could not be read: {type(exc).__name__}: {exc}"
        )
        return found
    if source is None:
        why = f"connection {task_try.conn_id!r} names no database" if task_try.conn_id else "no connection"
        found.run_facets["extractionError"] = _error(f"tables not named from SQL: {why}")
        return found
    sql = parse_sql(read_attr(task_try.task, "sql") or task_try.sql, source)
    _add(found.inputs, sql.inputs)
    _add(found.outputs, sql.outputs)
    if sql.error is not None:
        found.run_facets["extractionError"] = sql.error
    return found


def _error(message: str) -> ExtractionErrorRunFacet:
    return ExtractionErrorRunFacet(1, [(None, message, None)])
