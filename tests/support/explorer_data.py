"""The example DAG's run as the explorer's tests see it: the golden events made sendable again.

`compat/expected/alvin_example__all.events.json` is what every supported Airflow reports for one
run of the example DAG (times, versions, ids and stack traces masked). Filling those back in with
the values our wire contract computes gives that run's real events, sent over HTTP as Airflow's
processes send them: cheap (no Airflow) and no different from the run itself where the explorer
looks. The DAG run's own START and FAIL, which the golden file leaves out, are added, and a hostile
event (markup in every name) and a redacted one show what the explorer must escape and flag.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

from alvin_integration.model import dag_run_run_id, task_run_id

REPO = Path(__file__).resolve().parents[2]
GOLDEN_EVENTS = REPO / "compat" / "expected" / "alvin_example__all.events.json"
DAG_ID = "alvin_example"
HOSTILE = "<script>alert(1)</script>"
PLATFORM = "testplatform"


def _fill(value: Any, fills: Dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, fills) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, fills) for v in value]
    if isinstance(value, str):
        for placeholder, real in fills.items():
            if placeholder in value:
                value = value.replace(placeholder, str(real))
    return value


def example_run(
    dag_run: str = "manual__2026-11-01T00:00:00+00:00",
    start: datetime = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc),
) -> List[Dict[str, Any]]:
    """One run of the example DAG: the golden events with real ids and times, then the DAG run's end."""
    golden = json.loads(GOLDEN_EVENTS.read_text())
    clock = start
    parent = dag_run_run_id(DAG_ID, dag_run)
    events = []
    for index, template in enumerate(golden):
        details = template["run"]["facets"]["alvin"]
        clock += timedelta(seconds=1 + index % 3)
        fills = {
            "<time>": clock.isoformat(),
            "<version>": "0.1.0",
            "<DAG run>": dag_run,
            "<id of the DAG run>": parent,
            "<id of this task try>": task_run_id(DAG_ID, details["task_id"], dag_run, details["try_number"]),
            "<stack trace>": "Traceback (most recent call last):\n  ...",
        }
        event = _fill(template, fills)
        alvin = event["run"]["facets"]["alvin"]
        if event["eventType"] == "START":
            alvin["start_date"] = clock.isoformat()
        events.append(event)
    return [
        _dag_run_event("START", dag_run, start, start),
        *events,
        _dag_run_event("FAIL", dag_run, start, clock),
    ]


def _dag_run_event(event_type: str, dag_run: str, start: datetime, when: datetime) -> Dict[str, Any]:
    state = "running" if event_type == "START" else "failed"
    facets: Dict[str, Any] = {
        "alvin": {
            "_producer": "https://github.com/alvin-ai/alvin-integration/tree/v0.1.0",
            "_schemaURL": "https://alvin.ai/spec/facets/1-0-0/AlvinAirflowRunFacet.json",
            "dag_id": DAG_ID,
            "run_id": dag_run,
            "state": state,
            "start_date": start.isoformat(),
        }
    }
    if event_type == "FAIL":
        facets["errorMessage"] = {
            "_producer": "https://github.com/alvin-ai/alvin-integration/tree/v0.1.0",
            "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json",
            "message": "DAG run failed",
            "programmingLanguage": "python",
        }
    return {
        "eventType": event_type,
        "eventTime": when.isoformat(),
        "producer": "https://github.com/alvin-ai/alvin-integration/tree/v0.1.0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": dag_run_run_id(DAG_ID, dag_run), "facets": facets},
        "job": {
            "namespace": PLATFORM,
            "name": DAG_ID,
            "facets": {"jobType": {"integration": "AIRFLOW", "jobType": "DAG", "processingType": "BATCH"}},
        },
    }


def hostile_event() -> Dict[str, Any]:
    """A COMPLETE whose job, dataset, state and error all hold markup, and whose SQL was redacted."""
    dag_run = "manual__2026-11-02T00:00:00+00:00"
    event = example_run(dag_run)[2]  # the extract task's COMPLETE
    event["run"]["runId"] = task_run_id("hostile", HOSTILE, dag_run, 1)
    event["run"]["facets"]["alvin"].update(dag_id=f"hostile{HOSTILE}", task_id=HOSTILE, state=HOSTILE)
    event["run"]["facets"]["errorMessage"] = {
        "message": f"{HOSTILE} password=***",
        "programmingLanguage": "python",
    }
    event["job"]["name"] = f"hostile.{HOSTILE}"
    event["job"]["facets"]["sql"] = {"query": "SELECT * FROM t WHERE token = '***'"}
    event["inputs"] = [{"namespace": f"s3://{HOSTILE}", "name": HOSTILE}]
    return event


def send(url: str, events: List[Dict[str, Any]], api_key: str = "test-api-key") -> None:
    """POST each event to a mock API as the integration does (one request each, its own key)."""
    for event in events:
        request = urllib.request.Request(
            url + "/api/v1/lineage",
            data=json.dumps(event).encode(),
            method="POST",
            headers={
                "X-API-KEY": api_key,
                "Idempotency-Key": str(uuid.uuid4()),
                "Content-Type": "application/json",
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.read()
