"""The explorer's cost: 1,000 DAG runs on the runs page and a 200-node lineage graph (figures, not pass/fail).

A mock API in memory holds 1,000 runs of the example DAG (16 events each) plus 100 jobs that each
read one dataset and write the next (200 nodes). Printed: the server's time to fold and answer
(median of 5), then, with the system's headless Chromium, the time from navigation to a drawn page.
Run: `make bench` (tox's `browser` env), or `python benchmarks/bench_explorer.py` with Playwright.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alvin_integration.mock_backend.server import MockAlvinServer, make_server, start_in_thread
from tests.support.browser import find_chromium, launch
from tests.support.explorer_data import example_run

RUNS = 1_000
CHAIN = 100  # jobs; with their datasets, 200 nodes


def _fill(server: MockAlvinServer) -> None:
    store = server.store
    for run in range(RUNS):
        for index, event in enumerate(example_run(f"scheduled__{run:04d}")):
            store.add_event(f"{run}-{index}", event, json.dumps(event).encode())
    template = example_run()[2]  # the extract task's COMPLETE
    for job in range(CHAIN):
        event = json.loads(json.dumps(template))
        event["job"]["name"] = f"chain.step_{job:03d}"
        event["run"]["runId"] = f"00000000-0000-4000-8000-{job:012d}"
        event["run"]["facets"]["alvin"].update(dag_id="chain", task_id=f"step_{job:03d}")
        event["inputs"] = [{"namespace": "s3://chain", "name": f"table_{job:03d}"}]
        event["outputs"] = [{"namespace": "s3://chain", "name": f"table_{job + 1:03d}"}]
        store.add_event(f"chain-{job}", event, json.dumps(event).encode())


def _median_ms(action: Callable[[], Any], times: int = 5) -> float:
    samples: List[float] = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def main() -> int:
    """Print the figures."""
    server = make_server()
    start_in_thread(server)
    try:
        _fill(server)
        events = server.store.count()
        started = time.perf_counter()
        _get(server.url + "/api/v1/explorer/runs?limit=1")
        fold = (time.perf_counter() - started) * 1000
        print(f"{events} events stored; first fold of all of them: {fold:.0f} ms")
        runs_url = server.url + f"/?limit={RUNS}"
        graph_url = server.url + "/api/v1/explorer/graph?dag_id=chain"
        size = len(_get(runs_url))
        served = _median_ms(lambda: _get(runs_url))
        print(f"runs page, {RUNS} DAG runs ({size // 1024} KiB of HTML): {served:.0f} ms server")
        nodes = len(json.loads(_get(graph_url))["nodes"])
        served = _median_ms(lambda: _get(graph_url))
        print(f"lineage graph, {nodes} nodes (JSON with layout): {served:.0f} ms server")
        executable = find_chromium()
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            executable = None
        if executable is None:
            print("(no Chromium or Playwright here: browser figures skipped)")
            return 0
        with sync_playwright() as playwright:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def runs_page() -> None:
                page.goto(runs_url, wait_until="load")

            def graph_page() -> None:
                page.goto(server.url + "/lineage?dag_id=chain")
                page.wait_for_selector("svg#graph[data-ready=true]")

            print(f"runs page, {RUNS} DAG runs, in Chromium until loaded: {_median_ms(runs_page):.0f} ms")
            print(f"lineage page, {nodes} nodes, in Chromium until drawn: {_median_ms(graph_page):.0f} ms")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
