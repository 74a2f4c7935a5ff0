"""The lineage model: OpenLineage 2-0-2 RunEvent, Run, Job, Dataset and the facets we emit.

Plain dataclasses that serialise to JSON validating against the OpenLineage JSON Schemas; they know
nothing of Airflow. Run ids are deterministic, so any process that sees a task try names it alike.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Tuple, Union

from alvin_integration import __version__
from alvin_integration.redact import redacted_head, redacted_tail

PRODUCER = f"https://github.com/alvin-ai/alvin-integration/tree/v{__version__}"
RUN_EVENT_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
ALVIN_FACET_SCHEMA_URL = (
    "https://alvin.ai/spec/facets/1-0-0/AlvinAirflowRunFacet.json#/$defs/AlvinAirflowRunFacet"
)

# Fixed namespaces: changing them would give every run a new id, so they never change.
_RUN_ID_NAMESPACE = uuid.UUID("6a1f5a0e-1d2b-5b8e-9a47-3f0c2d7e8b11")
_EVENT_ID_NAMESPACE = uuid.UUID("0f9b7c3a-52d4-5e61-8c2f-9d4e1a6b7c20")

START = "START"
RUNNING = "RUNNING"
COMPLETE = "COMPLETE"
ABORT = "ABORT"
FAIL = "FAIL"
OTHER = "OTHER"
EVENT_TYPES = (START, RUNNING, COMPLETE, ABORT, FAIL, OTHER)
# A run has exactly one of each of these, so their event id needs nothing but the run id and type.
_ONCE_PER_RUN = (START, COMPLETE, ABORT, FAIL)

Timestamp = Union[datetime, str]


def iso_time(value: Timestamp) -> str:
    """RFC 3339 text for a datetime (naive ones are taken as UTC) or pass text through."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)


def task_run_id(dag_id: str, task_id: str, dag_run_id: str, try_number: int) -> str:
    """The run id of one task try; the same in every process and mechanism that reports it."""
    key = f"task\x1f{dag_id}\x1f{task_id}\x1f{dag_run_id}\x1f{int(try_number)}"
    return str(uuid.uuid5(_RUN_ID_NAMESPACE, key))


def dag_run_run_id(dag_id: str, dag_run_id: str) -> str:
    """The run id of one DAG run."""
    return str(uuid.uuid5(_RUN_ID_NAMESPACE, f"dag\x1f{dag_id}\x1f{dag_run_id}"))


def _without_none(values: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class Facet:
    """Base of every facet: adds ``_producer`` and ``_schemaURL`` to the facet's own fields."""

    SCHEMA_URL: ClassVar[str] = ""

    def fields(self) -> Dict[str, Any]:
        """The facet's own fields, without the base ones."""
        raise NotImplementedError

    def to_dict(self) -> Dict[str, Any]:
        """The facet as OpenLineage JSON."""
        return {
            "_producer": PRODUCER,
            "_schemaURL": self.SCHEMA_URL,
            **_without_none(self.fields()),
        }


@dataclass
class ParentRunFacet(Facet):
    """The run that started this one: a task try's DAG run."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-2-0/ParentRunFacet.json#/$defs/ParentRunFacet"
    )
    run_id: str
    namespace: str
    name: str

    def fields(self) -> Dict[str, Any]:
        parent = {
            "run": {"runId": self.run_id},
            "job": {"namespace": self.namespace, "name": self.name},
        }
        return {**parent, "root": parent}


@dataclass
class NominalTimeRunFacet(Facet):
    """The scheduled time (data interval) a run stands for."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-0-1/NominalTimeRunFacet.json#/$defs/NominalTimeRunFacet"
    )
    start: Timestamp
    end: Optional[Timestamp] = None

    def fields(self) -> Dict[str, Any]:
        return {
            "nominalStartTime": iso_time(self.start),
            "nominalEndTime": iso_time(self.end) if self.end is not None else None,
        }


@dataclass
class ErrorMessageRunFacet(Facet):
    """Why a run failed, with a truncated stack trace."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/ErrorMessageRunFacet"
    )
    MAX_STACK_TRACE: ClassVar[int] = 8_000
    MAX_MESSAGE: ClassVar[int] = 4_000
    message: str
    stack_trace: Optional[str] = None
    language: str = "python"

    def fields(self) -> Dict[str, Any]:
        # redacted whole, then cut: a secret straddling the cut must not leave its tail behind
        trace = redacted_tail(self.stack_trace, self.MAX_STACK_TRACE, "...\n") if self.stack_trace else None
        message = redacted_head(self.message, self.MAX_MESSAGE, " ...")
        return {"message": message, "programmingLanguage": self.language, "stackTrace": trace}


@dataclass
class ExtractionErrorRunFacet(Facet):
    """What lineage could not be found, and why (a statement the parser could not read, say)."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-1-2/ExtractionErrorRunFacet.json#/$defs/ExtractionErrorRunFacet"
    )
    MAX_TASK: ClassVar[int] = 2_000
    total_tasks: int
    errors: List[Tuple[Optional[int], str, Optional[str]]]  # (statement number, message, statement)

    def fields(self) -> Dict[str, Any]:
        errors = []
        for number, message, task in self.errors:
            error: Dict[str, Any] = {"errorMessage": redacted_head(message, self.MAX_TASK, " ...")}
            if task is not None:
                error["task"] = redacted_head(task, self.MAX_TASK, " ...")
            if number is not None:
                error["taskNumber"] = number
            errors.append(error)
        return {"totalTasks": self.total_tasks, "failedTasks": len(self.errors), "errors": errors}


@dataclass
class ExternalQueryRunFacet(Facet):
    """The id of a query a warehouse ran for this task (a BigQuery job, a Snowflake query)."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-0-2/ExternalQueryRunFacet.json#/$defs/ExternalQueryRunFacet"
    )
    external_query_id: str
    source: str

    def fields(self) -> Dict[str, Any]:
        return {"externalQueryId": self.external_query_id, "source": self.source}


@dataclass
class ColumnLineageDatasetFacet(Facet):
    """Which input columns each output column is computed from."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json"
        "#/$defs/ColumnLineageDatasetFacet"
    )
    columns: Dict[str, List[Tuple[str, str, str]]]  # output column -> [(namespace, name, field)]

    def fields(self) -> Dict[str, Any]:
        return {
            "fields": {
                column: {
                    "inputFields": [{"namespace": ns, "name": name, "field": f} for ns, name, f in inputs]
                }
                for column, inputs in sorted(self.columns.items())
            }
        }


@dataclass
class JobTypeJobFacet(Facet):
    """What kind of job this is: an Airflow DAG or TASK, run as a batch."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
    )
    job_type: str
    integration: str = "AIRFLOW"
    processing_type: str = "BATCH"

    def fields(self) -> Dict[str, Any]:
        return {
            "processingType": self.processing_type,
            "integration": self.integration,
            "jobType": self.job_type,
        }


@dataclass
class SQLJobFacet(Facet):
    """The SQL an operator runs."""

    SCHEMA_URL: ClassVar[str] = "https://openlineage.io/spec/facets/1-1-0/SQLJobFacet.json#/$defs/SQLJobFacet"
    MAX_QUERY: ClassVar[int] = 100_000
    query: str
    dialect: Optional[str] = None

    def fields(self) -> Dict[str, Any]:
        query = redacted_head(self.query, self.MAX_QUERY, "\n-- truncated by alvin-integration")
        return {"query": query, "dialect": self.dialect}


@dataclass
class GcpComposerJobFacet(Facet):
    """Where a job runs on Google Cloud Composer."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-0-0/GcpComposerJobFacet.json#/$defs/GcpComposerJobFacet"
    )
    environment_name: str
    dag_id: str
    airflow_version: str
    composer_version: str
    task_id: Optional[str] = None
    operator: Optional[str] = None

    def fields(self) -> Dict[str, Any]:
        return {
            "environmentName": self.environment_name,
            "dagId": self.dag_id,
            "airflowVersion": self.airflow_version,
            "composerVersion": self.composer_version,
            "taskId": self.task_id,
            "operator": self.operator,
        }


@dataclass
class GcpComposerRunFacet(Facet):
    """The Composer DAG run a run belongs to."""

    SCHEMA_URL: ClassVar[str] = (
        "https://openlineage.io/spec/facets/1-0-0/GcpComposerRunFacet.json#/$defs/GcpComposerRunFacet"
    )
    dag_run_id: str

    def fields(self) -> Dict[str, Any]:
        return {"dagRunId": self.dag_run_id}


@dataclass
class AlvinRunFacet(Facet):
    """Alvin's execution details of a task try or DAG run (dag_id, state, duration, operator...)."""

    SCHEMA_URL: ClassVar[str] = ALVIN_FACET_SCHEMA_URL
    details: Dict[str, Any] = field(default_factory=dict)

    def fields(self) -> Dict[str, Any]:
        return dict(self.details)


def merge_datasets(found: List[Dataset], more: Iterable[Dataset]) -> List[Dataset]:
    """Append to ``found`` each dataset of ``more`` it does not name yet (by namespace and name),
    in order; returns ``found``."""
    names = {(d.namespace, d.name) for d in found}
    for dataset in more:
        if (dataset.namespace, dataset.name) not in names:
            names.add((dataset.namespace, dataset.name))
            found.append(dataset)
    return found


@dataclass
class Dataset:
    """A dataset read or written by a job, named per the OpenLineage naming conventions."""

    namespace: str
    name: str
    facets: Dict[str, Facet] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """The dataset as OpenLineage JSON."""
        out: Dict[str, Any] = {"namespace": self.namespace, "name": self.name}
        if self.facets:
            out["facets"] = {key: facet.to_dict() for key, facet in self.facets.items()}
        return out


@dataclass
class Run:
    """One run of a job: a task try or a DAG run."""

    run_id: str
    facets: Dict[str, Facet] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """The run as OpenLineage JSON."""
        return {
            "runId": self.run_id,
            "facets": {key: facet.to_dict() for key, facet in self.facets.items()},
        }


@dataclass
class Job:
    """A job: a DAG (``<dag_id>``) or a task (``<dag_id>.<task_id>``) in the platform's namespace."""

    namespace: str
    name: str
    facets: Dict[str, Facet] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """The job as OpenLineage JSON."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "facets": {key: facet.to_dict() for key, facet in self.facets.items()},
        }


@dataclass
class RunEvent:
    """An OpenLineage RunEvent: one state transition of one run."""

    event_type: str
    run: Run
    job: Job
    event_time: Timestamp = field(default_factory=utc_now)
    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    producer: str = PRODUCER

    def __post_init__(self) -> None:
        if self.event_type not in EVENT_TYPES:
            msg = f"event_type must be one of {', '.join(EVENT_TYPES)}, not {self.event_type!r}"
            raise ValueError(msg)

    @property
    def event_id(self) -> str:
        """The id the receiver dedupes on: the same for a resend or a second report of one event."""
        key = f"{self.run.run_id}\x1f{self.event_type}"
        if self.event_type not in _ONCE_PER_RUN:
            key += f"\x1f{iso_time(self.event_time)}"
        return str(uuid.uuid5(_EVENT_ID_NAMESPACE, key))

    def to_dict(self) -> Dict[str, Any]:
        """The event as OpenLineage JSON."""
        return {
            "eventType": self.event_type,
            "eventTime": iso_time(self.event_time),
            "producer": self.producer,
            "schemaURL": RUN_EVENT_SCHEMA_URL,
            "run": self.run.to_dict(),
            "job": self.job.to_dict(),
            "inputs": [dataset.to_dict() for dataset in self.inputs],
            "outputs": [dataset.to_dict() for dataset in self.outputs],
        }

    def to_json(self) -> str:
        """The event as compact JSON text."""
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)


@dataclass
class MetadataBatch:
    """DAG definitions for ``POST /api/v1/metadata``; one page of a larger set."""

    platform_id: str
    airflow_version: str
    entities: List[Dict[str, Any]]

    @property
    def event_id(self) -> str:
        """The id the receiver dedupes on: the same content gives the same id."""
        return str(
            uuid.uuid5(_EVENT_ID_NAMESPACE, "metadata\x1f" + json.dumps(self.to_dict(), sort_keys=True))
        )

    def to_dict(self) -> Dict[str, Any]:
        """The batch as the metadata endpoint's JSON."""
        return {
            "alvin_platform_id": self.platform_id,
            "facets": {"airflow_version": self.airflow_version, "platform_type": "AIRFLOW"},
            "entities": self.entities,
        }
