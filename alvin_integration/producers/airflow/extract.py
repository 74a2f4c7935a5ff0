"""Airflow objects to lineage events: task tries and DAG runs, version-neutral where it can be.

Adapters read the few values that differ between Airflow versions (which try a callback is about,
the state) and pass them in; everything else is read here by attribute, so one function serves
Airflow 1.10 to 3.x. Nothing here talks to the network or raises into the host: callers are
guarded, and every read of a user's operator is defensive.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Dict, Iterable, List, Optional
from urllib.parse import urlsplit

from alvin_integration import __version__
from alvin_integration.model import (
    COMPLETE,
    FAIL,
    AlvinRunFacet,
    Dataset,
    ErrorMessageRunFacet,
    Facet,
    GcpComposerJobFacet,
    GcpComposerRunFacet,
    Job,
    JobTypeJobFacet,
    NominalTimeRunFacet,
    ParentRunFacet,
    Run,
    RunEvent,
    SQLJobFacet,
    dag_run_run_id,
    iso_time,
    task_run_id,
)

MAX_TEXT = 2_000
CONN_ID_ATTRIBUTES = (
    "conn_id",
    "gcp_conn_id",
    "postgres_conn_id",
    "snowflake_conn_id",
    "mysql_conn_id",
    "http_conn_id",
    "aws_conn_id",
    "ssh_conn_id",
    "sql_conn_id",
    "bigquery_conn_id",
)


@dataclass
class Host:
    """Where the events come from: platform id, Airflow version, and Composer details if any."""

    platform_id: str
    airflow_version: str
    composer_environment: Optional[str] = None
    composer_version: Optional[str] = None


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

    @property
    def job_name(self) -> str:
        """``<dag_id>.<task_id>``."""
        return f"{self.dag_id}.{self.task_id}"

    @property
    def run_id(self) -> str:
        """The deterministic run id of this try (a mapped task's index is part of the task)."""
        task = self.task_id if self.map_index in (None, -1) else f"{self.task_id}[{self.map_index}]"
        return task_run_id(self.dag_id, task, self.dag_run_id, self.try_number)


def _attr(obj: Any, *names: str) -> Any:
    for name in names:
        try:
            value = getattr(obj, name, None)
        except Exception:  # a property of a user's operator may raise
            value = None
        if value is not None:
            return value
    return None


def _text(value: Any, limit: int = MAX_TEXT) -> Optional[str]:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def state_name(value: Any) -> Optional[str]:
    if value is None:
        return None
    return str(getattr(value, "value", value)).lower()


def _sql_of(task: Any) -> Optional[str]:
    sql = _attr(task, "sql")
    if sql is None:
        return None
    if isinstance(sql, (list, tuple)):
        return ";\n".join(str(statement) for statement in sql)
    return sql if isinstance(sql, str) else None


def uri_to_dataset(uri: str) -> Dataset:
    """A dataset for a URI, per the OpenLineage naming conventions (namespace = scheme://authority)."""
    parts = urlsplit(uri)
    if parts.scheme and parts.netloc:
        return Dataset(f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/")
    if parts.scheme:
        return Dataset(parts.scheme, parts.path)
    return Dataset("file" if uri.startswith("/") else "airflow", uri)


# Airflow 2's serialized DAGs (what the scheduler holds) keep a lineage entity as its repr:
# "File(url='s3://b/k', type_hint=None)", "Table(database='db', cluster='c', name='t', ...)".
_ENTITY_REPR = re.compile(r"^(?:File|Table|Dataset|Asset)\((.*)\)$", re.DOTALL)
_REPR_FIELD = re.compile(r"(\w+)='((?:[^'\\]|\\.)*)'")


def _entity_from_repr(text: str) -> Any:
    match = _ENTITY_REPR.match(text)
    if match is None:
        return None
    return SimpleNamespace(**dict(_REPR_FIELD.findall(match.group(1))))


def entity_to_dataset(entity: Any) -> Optional[Dataset]:
    """A dataset for an Airflow lineage entity: 1.10 DataSet/File, 2.x File/Table/Dataset, 3.x Asset."""
    if isinstance(entity, str):
        entity = _entity_from_repr(entity) or entity
    uri = _attr(entity, "uri", "url")
    if isinstance(uri, str) and uri:
        return uri_to_dataset(uri)
    cluster, database, name = _attr(entity, "cluster"), _attr(entity, "database"), _attr(entity, "name")
    if name and (cluster or database):  # airflow.lineage.entities.Table
        return Dataset(str(cluster or "default"), f"{database}.{name}" if database else str(name))
    if isinstance(name, str) and "://" in name:  # Airflow 1.10 File("s3://...")
        return uri_to_dataset(name)
    qualified = _attr(entity, "qualified_name")  # other Airflow 1.10 DataSets ("file:///tmp/x")
    if qualified:
        return uri_to_dataset(str(qualified))
    if isinstance(entity, str) and entity:
        return uri_to_dataset(entity)
    return None


def datasets(entities: Any) -> List[Dataset]:
    """Datasets for a task's inlets or outlets; entities we cannot name are left out."""
    if entities is None or isinstance(entities, (str, bytes)):
        entities = [entities] if entities else []
    found: List[Dataset] = []
    try:
        items: Iterable[Any] = list(entities)
    except TypeError:
        return found
    for entity in items:
        dataset = entity_to_dataset(entity)
        if dataset is not None and dataset not in found:
            found.append(dataset)
    return found


def declared_lineage(task: Any, name: str) -> List[Any]:
    """A task's declared ``inlets``/``outlets``; 1.10 to 2.2 keep them in ``_inlets`` until execute."""
    value = _attr(task, name) or _attr(task, "_" + name)
    if isinstance(value, dict):  # 1.10: {"datasets": [...], "task_ids": [...], "auto": False}
        value = value.get("datasets")
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        value = [value] if value else []
    # 2.2 also keeps upstream task ids there (`>` lineage); a dataset name has a scheme.
    return [v for v in value if not (isinstance(v, str) and "://" not in v)]


def read_task_try(
    ti: Any, try_number: int, state: Optional[str], dag_run: Any = None, error: Optional[BaseException] = None
) -> TaskTry:
    """Read a task instance of any Airflow version; ``try_number`` and ``state`` come from the adapter."""
    task = _attr(ti, "task")
    dag_run = dag_run if dag_run is not None else _dag_run_of(ti)
    start, end = _attr(ti, "start_date"), _attr(ti, "end_date")
    duration = _attr(ti, "duration")
    if duration is None and isinstance(start, datetime) and isinstance(end, datetime):
        duration = (end - start).total_seconds()
    conn_id = next((str(v) for v in (_attr(task, n) for n in CONN_ID_ATTRIBUTES) if isinstance(v, str)), None)
    external = {
        key: value
        for key, value in (
            ("bigquery_job_id", _attr(task, "job_id")),
            ("project_id", _attr(task, "project_id")),
            ("query_ids", _attr(task, "query_ids")),
        )
        if isinstance(value, str) or (key == "query_ids" and isinstance(value, list) and value)
    }
    nominal_start = _nominal_start(dag_run) or _attr(ti, "execution_date")
    return TaskTry(
        dag_id=str(_attr(ti, "dag_id")),
        task_id=str(_attr(ti, "task_id")),
        dag_run_id=str(
            _attr(ti, "run_id") or _attr(dag_run, "run_id") or iso_time(_attr(ti, "execution_date"))
        ),
        try_number=int(try_number),
        state=state,
        max_tries=_attr(ti, "max_tries"),
        start=start,
        end=end,
        duration=float(duration) if isinstance(duration, (int, float)) else None,
        pool=_text(_attr(ti, "pool")),
        operator=type(task).__name__ if task is not None else _text(_attr(ti, "operator")),
        conn_id=conn_id,
        map_index=_attr(ti, "map_index"),
        sql=_sql_of(task),
        nominal_start=nominal_start,
        nominal_end=_attr(dag_run, "data_interval_end"),
        inputs=datasets(declared_lineage(task, "inlets")),
        outputs=datasets(declared_lineage(task, "outlets")),
        error=error,
        external_ids=external,
    )


def _nominal_start(dag_run: Any) -> Any:
    # Airflow 3 manual runs may have no logical date and no data interval; they still have run_after.
    return _attr(dag_run, "data_interval_start", "logical_date", "execution_date", "run_after")


def _dag_run_of(ti: Any) -> Any:
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


def _common_run_facets(host: Host, nominal_start: Any, nominal_end: Any) -> Dict[str, Facet]:
    facets: Dict[str, Facet] = {}
    if nominal_start is not None:
        facets["nominalTime"] = NominalTimeRunFacet(nominal_start, nominal_end)
    return facets


def _details(host: Host, values: Dict[str, Any]) -> AlvinRunFacet:
    values = {k: (iso_time(v) if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}
    values.update(airflow_version=host.airflow_version, integration_version=__version__)
    values["platform_id"] = host.platform_id
    return AlvinRunFacet(values)


def task_event(event_type: str, task_try: TaskTry, host: Host) -> RunEvent:
    """The RunEvent of one transition of a task try."""
    t = task_try
    run_facets = _common_run_facets(host, t.nominal_start, t.nominal_end)
    run_facets["parent"] = ParentRunFacet(dag_run_run_id(t.dag_id, t.dag_run_id), host.platform_id, t.dag_id)
    run_facets["alvin"] = _details(
        host,
        {
            "dag_id": t.dag_id,
            "task_id": t.task_id,
            "run_id": t.dag_run_id,
            "try_number": t.try_number,
            "max_tries": t.max_tries,
            "map_index": t.map_index if t.map_index not in (None, -1) else None,
            "state": t.state,
            "start_date": t.start,
            "end_date": t.end,
            "duration": t.duration,
            "pool": t.pool,
            "operator": t.operator,
            "conn_id": t.conn_id,
            **t.external_ids,
        },
    )
    if event_type == FAIL and (t.error is not None or t.error_text):
        run_facets["errorMessage"] = error_facet(t.error, t.error_text)
    job_facets: Dict[str, Facet] = {"jobType": JobTypeJobFacet("TASK")}
    if t.sql:
        job_facets["sql"] = SQLJobFacet(t.sql)
    if host.composer_environment:
        job_facets["gcp_composer_job"] = GcpComposerJobFacet(
            host.composer_environment,
            t.dag_id,
            host.airflow_version,
            host.composer_version or "unknown",
            t.task_id,
            t.operator,
        )
        run_facets["gcp_composer_run"] = GcpComposerRunFacet(t.dag_run_id)
    return RunEvent(
        event_type,
        Run(t.run_id, run_facets),
        Job(host.platform_id, t.job_name, job_facets),
        inputs=t.inputs,
        outputs=t.outputs,
    )


def error_facet(error: Optional[BaseException], text: Optional[str] = None) -> ErrorMessageRunFacet:
    """An error message with a truncated stack trace."""
    if error is None:
        return ErrorMessageRunFacet(_text(text) or "failed")
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return ErrorMessageRunFacet(_text(f"{type(error).__name__}: {error}") or "failed", trace)


def dag_run_event(event_type: str, dag_run: Any, host: Host, msg: Optional[str] = None) -> RunEvent:
    """The RunEvent of one transition of a DAG run."""
    dag_id, run_id = str(_attr(dag_run, "dag_id")), str(_attr(dag_run, "run_id"))
    run_facets = _common_run_facets(host, _nominal_start(dag_run), _attr(dag_run, "data_interval_end"))
    state = state_name(_attr(dag_run, "state"))
    run_facets["alvin"] = _details(
        host,
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "run_type": state_name(_attr(dag_run, "run_type")),
            "state": state,
            "start_date": _attr(dag_run, "start_date"),
            "end_date": _attr(dag_run, "end_date"),
            "external_trigger": _attr(dag_run, "external_trigger"),
        },
    )
    if event_type == FAIL:
        run_facets["errorMessage"] = ErrorMessageRunFacet(_text(msg) or "DAG run failed")
    job_facets: Dict[str, Facet] = {"jobType": JobTypeJobFacet("DAG")}
    if host.composer_environment:
        job_facets["gcp_composer_job"] = GcpComposerJobFacet(
            host.composer_environment, dag_id, host.airflow_version, host.composer_version or "unknown"
        )
        run_facets["gcp_composer_run"] = GcpComposerRunFacet(run_id)
    return RunEvent(
        event_type, Run(dag_run_run_id(dag_id, run_id), run_facets), Job(host.platform_id, dag_id, job_facets)
    )


__all__ = ["COMPLETE", "FAIL", "Host", "TaskTry", "dag_run_event", "datasets", "read_task_try", "task_event"]
