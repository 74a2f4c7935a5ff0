"""The mock Alvin API: auth, validation, dedupe, listing, page."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Dict, Optional, Tuple

import pytest

from alvin_integration.mock_backend.server import MockAlvinServer, make_server, start_in_thread
from alvin_integration.model import COMPLETE, START, MetadataBatch
from tests.support.events import API_KEY, task_event


def call(
    server: MockAlvinServer,
    method: str,
    path: str,
    body: Any = None,
    headers: Optional[Dict[str, str]] = None,
) -> Tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw, status, kind = response.read(), response.status, response.headers.get("Content-Type")
    except urllib.error.HTTPError as exc:
        raw, status, kind = exc.read(), exc.code, exc.headers.get("Content-Type")
    return status, json.loads(raw) if "json" in (kind or "") else raw.decode()


def post_event(
    server: MockAlvinServer, event: Dict[str, Any], key: str = "k1", api_key: str = API_KEY
) -> Tuple[int, Any]:
    return call(server, "POST", "/api/v1/lineage", event, {"X-API-KEY": api_key, "Idempotency-Key": key})


@pytest.fixture
def keyed_backend():
    server = make_server(api_key=API_KEY)
    start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


def test_key_is_required_and_checked(keyed_backend: MockAlvinServer) -> None:
    event = task_event(1).to_dict()
    assert call(keyed_backend, "POST", "/api/v1/lineage", event, {"Idempotency-Key": "k"})[0] == 401
    assert post_event(keyed_backend, event, api_key="wrong")[0] == 403
    assert post_event(keyed_backend, event)[0] == 200


def test_invalid_events_get_400_with_the_reason(mock_backend: MockAlvinServer) -> None:
    status, reply = post_event(mock_backend, {"eventType": "DONE", "run": {"runId": "nope"}})
    assert status == 400
    assert (
        "eventTime" in reply["error"]
        and "run.runId must be a UUID" in reply["error"]
        and "eventType" in reply["error"]
    )
    status, reply = call(
        mock_backend, "POST", "/api/v1/lineage", None, {"X-API-KEY": "k", "Content-Length": "0"}
    )
    assert status == 400 and "not JSON" in reply["error"]


def test_events_are_deduplicated_on_idempotency_key(mock_backend: MockAlvinServer) -> None:
    event = task_event(1).to_dict()
    assert post_event(mock_backend, event, key="same") == (200, {"status": "accepted"})
    assert post_event(mock_backend, event, key="same") == (200, {"status": "duplicate"})
    assert len(mock_backend.store.events()) == 1
    assert len(mock_backend.store.deliveries()) == 2


def test_events_are_listed_with_filters(mock_backend: MockAlvinServer) -> None:
    for i, kind in enumerate((START, COMPLETE)):
        for task in (1, 2):
            post_event(mock_backend, task_event(task, kind).to_dict(), key=f"{task}-{i}")
    assert len(call(mock_backend, "GET", "/api/v1/events")[1]) == 4
    by_job = call(mock_backend, "GET", "/api/v1/events?job_name=example_dag.task_1")[1]
    assert {e["event"]["job"]["name"] for e in by_job} == {"example_dag.task_1"}
    run_id = by_job[0]["event"]["run"]["runId"]
    assert len(call(mock_backend, "GET", f"/api/v1/events?run_id={run_id}&event_type=COMPLETE")[1]) == 1


def test_metadata_health_and_page(mock_backend: MockAlvinServer) -> None:
    batch = MetadataBatch("testplatform", "2.11.0", [{"dag_id": "<script>"}]).to_dict()
    assert call(mock_backend, "POST", "/api/v1/metadata", batch, {"X-API-KEY": "k"})[0] == 200
    assert call(mock_backend, "POST", "/api/v1/metadata", {"entities": 1}, {"X-API-KEY": "k"})[0] == 400
    assert call(mock_backend, "GET", "/api/v1/metadata")[1] == [batch]
    assert call(mock_backend, "GET", "/healthz") == (200, {"status": "ok"})
    post_event(mock_backend, task_event(1, COMPLETE, details={"state": "<b>success</b>"}).to_dict())
    status, page = call(mock_backend, "GET", "/")
    assert status == 200 and "example_dag.task_1" in page and "COMPLETE" in page
    assert "&lt;b&gt;success&lt;/b&gt;" in page and "<b>success" not in page
    assert call(mock_backend, "GET", "/nope")[0] == 404
