"""The explorer's JSON (runs, graph, a node, an event) by value, and its pages' escaping."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any, Dict

from alvin_integration.mock_backend.layout import layout
from alvin_integration.mock_backend.server import MockAlvinServer
from tests.support.explorer_data import HOSTILE, example_run, hostile_event, send

DB = "sqlite://alvin_example.db"


def get(server: MockAlvinServer, path: str) -> Any:
    with urllib.request.urlopen(server.url + path, timeout=10) as response:
        body = response.read().decode()
        return json.loads(body) if "json" in response.headers["Content-Type"] else body


def test_runs_json_has_each_try_with_its_state_error_duration_and_retry(
    mock_backend: MockAlvinServer,
) -> None:
    send(mock_backend.url, example_run())
    runs = get(mock_backend, "/api/v1/explorer/runs")
    assert runs["dags"] == [{"dag_id": "alvin_example", "runs": 1}]
    assert runs["states"] == ["failed", "skipped", "success", "up_for_retry"]
    (dag_run,) = runs["dag_runs"]
    assert (dag_run["state"], dag_run["state_reported"], dag_run["duration"]) == ("failed", True, 27.0)
    assert [e["type"] for e in dag_run["events"]] == ["START", "FAIL"]
    tries = {(t["task_id"], t["try_number"]): t for t in dag_run["tries"]}
    assert sorted(tries) == [
        ("extract", 1), ("fail", 1), ("flaky", 1), ("flaky", 2), ("load", 1), ("skip", 1), ("transform", 1),
    ]  # fmt: skip
    first, second = tries[("flaky", 1)], tries[("flaky", 2)]
    assert (first["state"], first["error"], first["retried"]) == (
        "up_for_retry", "RuntimeError: first try fails on purpose", True,
    )  # fmt: skip
    assert (second["state"], second["error"], second["retried"]) == ("success", None, False)
    assert first["duration"] == 3.0 and first["start"] == "2026-11-01T06:00:09+00:00"
    assert [e["type"] for e in first["events"]] == ["START", "FAIL"]
    assert tries[("fail", 1)]["error"] == "ValueError: this task fails on purpose"

    assert get(mock_backend, "/api/v1/explorer/runs?state=skipped")["total"] == 1
    assert get(mock_backend, "/api/v1/explorer/runs?state=queued")["total"] == 0
    assert get(mock_backend, "/api/v1/explorer/runs?dag_id=other")["dag_runs"] == []


def test_runs_are_paged_newest_first(mock_backend: MockAlvinServer) -> None:
    for day in range(1, 4):
        send(mock_backend.url, example_run(f"scheduled__2026-11-0{day}")[:3])
    page = get(mock_backend, "/api/v1/explorer/runs?limit=2")
    assert (page["total"], page["limit"]) == (3, 2)
    assert [r["run_id"] for r in page["dag_runs"]] == ["scheduled__2026-11-03", "scheduled__2026-11-02"]
    rest = get(mock_backend, "/api/v1/explorer/runs?limit=2&offset=2")
    assert [r["run_id"] for r in rest["dag_runs"]] == ["scheduled__2026-11-01"]
    assert 'rel="next"' in get(mock_backend, "/?limit=2")


def test_graph_json_links_inputs_to_jobs_to_outputs_left_to_right(mock_backend: MockAlvinServer) -> None:
    send(mock_backend.url, example_run())
    graph = get(mock_backend, "/api/v1/explorer/graph")
    node = {n["name"]: n for n in graph["nodes"]}
    edges = {
        (node_name(graph, e["source"]), node_name(graph, e["target"])): e["back"] for e in graph["edges"]
    }
    assert edges == {
        ("raw/orders.csv", "alvin_example.extract"): False,
        ("alvin_example.extract", "clean/orders.parquet"): False,
        ("warehouse.staging.orders", "alvin_example.load"): False,
        ("alvin_example.load", "warehouse.analytics.orders"): False,
        ("raw_orders", "alvin_example.transform"): False,
        ("alvin_example.transform", "order_totals"): False,
        ("alvin_example.transform", "raw_orders"): True,  # it writes the table it reads
    }
    for source, target in edges:
        if not edges[(source, target)]:
            assert node[source]["x"] < node[target]["x"]
    assert node["alvin_example.fail"]["state"] == "failed"
    assert node["alvin_example.flaky"]["state"] == "success"  # its last try
    assert node["raw/orders.csv"]["namespace"] == "s3://alvin-example"
    assert graph["namespaces"] == [
        "postgres://example-db:5432", "s3://alvin-example", "sqlite://alvin_example.db", "testplatform",
    ]  # fmt: skip
    assert (graph["total_nodes"], graph["truncated"], graph["dags"]) == (12, False, ["alvin_example"])
    small = get(mock_backend, "/api/v1/explorer/graph?limit=3")
    assert small["truncated"] and len(small["nodes"]) <= 3


def node_name(graph: Dict[str, Any], node_id: str) -> str:
    return next(n["name"] for n in graph["nodes"] if n["id"] == node_id)


def test_a_dataset_lists_its_readers_writers_and_column_lineage(mock_backend: MockAlvinServer) -> None:
    send(mock_backend.url, example_run())
    graph = get(mock_backend, "/api/v1/explorer/graph")
    ids = {n["name"]: n["id"] for n in graph["nodes"]}
    totals = get(mock_backend, f"/api/v1/explorer/nodes/{ids['order_totals']}")
    assert [w["name"] for w in totals["writers"]] == ["alvin_example.transform"] and totals["readers"] == []
    assert totals["column_lineage"] == [
        {"field": "id", "inputs": [{"namespace": DB, "name": "raw_orders", "field": "id"}]},
        {"field": "total", "inputs": [{"namespace": DB, "name": "raw_orders", "field": "amount"}]},
    ]
    flaky = get(mock_backend, f"/api/v1/explorer/nodes/{ids['alvin_example.flaky']}")
    assert [(r["try_number"], r["state"], r["retried"]) for r in flaky["runs"]] == [
        (2, "success", False), (1, "up_for_retry", True),
    ]  # fmt: skip
    extract = get(mock_backend, f"/api/v1/explorer/nodes/{ids['alvin_example.extract']}")
    assert [d["name"] for d in extract["inputs"]] == ["raw/orders.csv"]
    assert [d["name"] for d in extract["outputs"]] == ["clean/orders.parquet"]


def test_an_event_shows_its_checks_and_what_redaction_masked(mock_backend: MockAlvinServer) -> None:
    send(mock_backend.url, [hostile_event()])
    view = get(mock_backend, "/api/v1/events/1")
    assert view["problems"] == [] and view["event"]["job"]["name"] == f"hostile.{HOSTILE}"
    assert view["masked"] == [
        {"path": "job.facets.sql.query", "count": 1},
        {"path": "run.facets.errorMessage.message", "count": 1},
    ]
    assert json.loads(view["raw"]) == view["event"]
    page = get(mock_backend, "/events/1")
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for path in ("/", "/lineage"):
        assert HOSTILE not in get(mock_backend, path)
    for path in ("/events/2", "/api/v1/events/2", "/api/v1/explorer/nodes/x1", "/static/../server.py"):
        try:
            get(mock_backend, path)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404, path
        else:
            raise AssertionError(f"{path} answered")


def test_ten_thousand_events_page_quickly(mock_backend: MockAlvinServer) -> None:
    store = mock_backend.store
    template = example_run()
    for run in range(10_000 // len(template) + 1):
        for event in example_run(f"scheduled__{run}"):
            store.add_event(f"{run}-{len(template)}-{id(event)}", event, json.dumps(event).encode())
    assert store.count() >= 10_000
    get(mock_backend, "/api/v1/explorer/runs")  # the one fold of every event
    started = time.monotonic()
    page = get(mock_backend, "/")
    graph = get(mock_backend, "/api/v1/explorer/graph")
    assert page.count('class="dag-run"') == 50 and len(graph["nodes"]) == 12  # 6 jobs, 6 datasets
    assert time.monotonic() - started < 5  # generous: the figure is in make bench


def test_layout_breaks_cycles_and_places_edges_left_to_right() -> None:
    placed = layout(["a", "j", "b", "lonely"], [("a", "j"), ("j", "b"), ("j", "a")], jobs={"j", "lonely"})
    assert placed.back_edges == {("j", "a")}
    layer = {n: p["layer"] for n, p in placed.positions.items()}
    assert layer == {"a": 0, "j": 1, "b": 2, "lonely": 1}
    assert placed.width == 2 * (220 + 90) + 220
