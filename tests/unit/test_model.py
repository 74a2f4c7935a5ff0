"""The lineage model: schema-valid JSON, deterministic ids."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from alvin_integration.model import (
    COMPLETE,
    FAIL,
    RUNNING,
    START,
    AlvinRunFacet,
    Dataset,
    ErrorMessageRunFacet,
    GcpComposerJobFacet,
    GcpComposerRunFacet,
    Job,
    JobTypeJobFacet,
    MetadataBatch,
    Run,
    RunEvent,
    SQLJobFacet,
    dag_run_run_id,
    task_run_id,
)
from tests.support.events import task_event
from tests.support.schema import assert_valid, schema_errors


@pytest.mark.parametrize("event_type", [START, COMPLETE, FAIL, RUNNING])
def test_task_events_validate_against_openlineage_schema(event_type: str) -> None:
    assert_valid(task_event(event_type=event_type).to_dict())


def test_every_facet_validates() -> None:
    event = task_event(event_type=FAIL)
    event.run.facets["errorMessage"] = ErrorMessageRunFacet("boom", "Traceback...\n  x" * 2000)
    event.run.facets["gcp_composer_run"] = GcpComposerRunFacet("manual__1")
    event.job.facets["sql"] = SQLJobFacet("SELECT 1", dialect="postgres")
    event.job.facets["gcp_composer_job"] = GcpComposerJobFacet(
        "env", "dag", "2.10.5+composer", "2.9.7", "t", "Op"
    )
    assert_valid(event.to_dict())


def test_schema_check_catches_a_broken_event() -> None:
    broken = task_event().to_dict()
    del broken["run"]["runId"]
    broken["run"]["facets"]["errorMessage"] = {
        "_producer": "x:y",
        "_schemaURL": ErrorMessageRunFacet.SCHEMA_URL,
    }
    errors = schema_errors(broken)
    assert any("runId" in e for e in errors)
    assert any("message" in e for e in errors)


def test_run_ids_are_deterministic_per_task_try() -> None:
    first = task_run_id("dag", "task", "manual__1", 1)
    assert first == task_run_id("dag", "task", "manual__1", 1)
    assert first != task_run_id("dag", "task", "manual__1", 2)
    assert first != task_run_id("dag", "task2", "manual__1", 1)
    assert dag_run_run_id("dag", "manual__1") == dag_run_run_id("dag", "manual__1")
    assert dag_run_run_id("dag", "manual__1") != first


def test_event_id_names_one_transition_of_one_run() -> None:
    start, again = task_event(event_type=START), task_event(event_type=START)
    assert start.event_id == again.event_id  # a second report of one START dedupes
    assert start.event_id != task_event(event_type=COMPLETE).event_id
    running = [
        RunEvent(RUNNING, start.run, start.job, event_time=f"2026-11-27T00:00:0{i}Z") for i in range(2)
    ]
    assert running[0].event_id != running[1].event_id


def test_unknown_event_type_is_refused() -> None:
    with pytest.raises(ValueError, match="event_type must be one of"):
        RunEvent("DONE", Run(task_run_id("d", "t", "r", 1)), Job("ns", "d.t"))


def test_long_text_is_truncated_and_non_ascii_kept() -> None:
    facet = SQLJobFacet("SELECT 'ü' " + "x" * 200_000).to_dict()
    assert len(facet["query"]) < 100_100 and facet["query"].endswith("truncated by alvin-integration")
    trace = ErrorMessageRunFacet("fehler ß", "line\n" * 10_000).to_dict()["stackTrace"]
    assert len(trace) <= ErrorMessageRunFacet.MAX_STACK_TRACE + 4
    event = RunEvent(COMPLETE, Run(task_run_id("dåg", "tâsk", "r", 1)), Job("ns", "dåg.tâsk"))
    assert json.loads(event.to_json())["job"]["name"] == "dåg.tâsk"
    assert_valid(event.to_dict())


def test_naive_datetimes_are_utc() -> None:
    event = RunEvent(
        START, Run(task_run_id("d", "t", "r", 1)), Job("ns", "d.t"), event_time=datetime(2026, 1, 2, 3, 4, 5)
    )
    assert event.to_dict()["eventTime"] == "2026-01-02T03:04:05+00:00"


def test_datasets_and_job_type() -> None:
    event = RunEvent(
        COMPLETE,
        Run(dag_run_run_id("d", "r"), {"alvin": AlvinRunFacet({"state": "success"})}),
        Job("ns", "d", {"jobType": JobTypeJobFacet("DAG")}),
        inputs=[Dataset("s3://bucket", "path/in.csv")],
    )
    body = event.to_dict()
    assert body["inputs"] == [{"namespace": "s3://bucket", "name": "path/in.csv"}]
    assert body["job"]["facets"]["jobType"]["jobType"] == "DAG"
    assert_valid(body)


def test_metadata_batch_shape_and_stable_id() -> None:
    batch = MetadataBatch("platform", "2.11.0", [{"dag_id": "a"}])
    assert batch.to_dict() == {
        "alvin_platform_id": "platform",
        "facets": {"airflow_version": "2.11.0", "platform_type": "AIRFLOW"},
        "entities": [{"dag_id": "a"}],
    }
    assert batch.event_id == MetadataBatch("platform", "2.11.0", [{"dag_id": "a"}]).event_id
