"""Building lineage events from what was read: a task try's and a DAG run's transitions."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional

from alvin_integration import __version__
from alvin_integration.model import (
    FAIL,
    AlvinRunFacet,
    ErrorMessageRunFacet,
    Facet,
    Job,
    JobTypeJobFacet,
    NominalTimeRunFacet,
    ParentRunFacet,
    Run,
    RunEvent,
    SQLJobFacet,
    dag_run_run_id,
    iso_time,
)
from alvin_integration.producers.airflow.composer import ComposerFacts, composer_facets
from alvin_integration.producers.airflow.host_attrs import read_attr, short_text, state_name
from alvin_integration.producers.airflow.read import TaskTry, nominal_start_of


@dataclass
class Host:
    """Where the events come from: platform id, Airflow version, and the Composer environment if any."""

    platform_id: str
    airflow_version: str
    composer: Optional[ComposerFacts] = None


def _nominal_time(nominal_start: Any, nominal_end: Any) -> Dict[str, Facet]:
    return (
        {"nominalTime": NominalTimeRunFacet(nominal_start, nominal_end)} if nominal_start is not None else {}
    )


def _details(host: Host, values: Dict[str, Any]) -> AlvinRunFacet:
    values = {k: (iso_time(v) if isinstance(v, datetime) else v) for k, v in values.items() if v is not None}
    values.update(airflow_version=host.airflow_version, integration_version=__version__)
    values["platform_id"] = host.platform_id
    return AlvinRunFacet(values)


def task_event(event_type: str, task_try: TaskTry, host: Host) -> RunEvent:
    """The RunEvent of one transition of a task try."""
    t = task_try
    run_facets = _nominal_time(t.nominal_start, t.nominal_end)
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
    run_facets.update(t.run_facets)
    if event_type == FAIL and (t.error is not None or t.error_text):
        run_facets["errorMessage"] = error_facet(t.error, t.error_text)
    job_facets: Dict[str, Facet] = {"jobType": JobTypeJobFacet("TASK")}
    if t.sql:
        job_facets["sql"] = SQLJobFacet(t.sql)
    if host.composer is not None:
        composer = composer_facets(
            host.composer, host.airflow_version, t.dag_id, t.dag_run_id, t.task_id, t.operator
        )
        job_facets.update(composer["job"])
        run_facets.update(composer["run"])
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
        return ErrorMessageRunFacet(short_text(text) or "failed")
    trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return ErrorMessageRunFacet(short_text(f"{type(error).__name__}: {error}") or "failed", trace)


def dag_run_event(event_type: str, dag_run: Any, host: Host, msg: Optional[str] = None) -> RunEvent:
    """The RunEvent of one transition of a DAG run."""
    dag_id, run_id = str(read_attr(dag_run, "dag_id")), str(read_attr(dag_run, "run_id"))
    run_facets = _nominal_time(nominal_start_of(dag_run), read_attr(dag_run, "data_interval_end"))
    run_facets["alvin"] = _details(
        host,
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "run_type": state_name(read_attr(dag_run, "run_type")),
            "state": state_name(read_attr(dag_run, "state")),
            "start_date": read_attr(dag_run, "start_date"),
            "end_date": read_attr(dag_run, "end_date"),
            "external_trigger": read_attr(dag_run, "external_trigger"),
        },
    )
    if event_type == FAIL:
        run_facets["errorMessage"] = ErrorMessageRunFacet(short_text(msg) or "DAG run failed")
    job_facets: Dict[str, Facet] = {"jobType": JobTypeJobFacet("DAG")}
    if host.composer is not None:
        composer = composer_facets(host.composer, host.airflow_version, dag_id, run_id)
        job_facets.update(composer["job"])
        run_facets.update(composer["run"])
    return RunEvent(
        event_type, Run(dag_run_run_id(dag_id, run_id), run_facets), Job(host.platform_id, dag_id, job_facets)
    )
