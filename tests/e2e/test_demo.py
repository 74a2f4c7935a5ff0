"""`alvin-integration demo` inside this row's Airflow, as a user runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

from alvin_integration.mock_backend.explorer import Explorer
from alvin_integration.mock_backend.store import Store
from tests.support.matrix import current_row


def test_demo_runs_the_example_dag_and_shows_what_alvin_received() -> None:
    # --no-serve: without it the demo serves its explorer until Ctrl-C; --keep: its database is read
    command = [
        os.path.join(os.path.dirname(sys.executable), "alvin-integration"),
        "demo",
        "--no-serve",
        "--keep",
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd="/")
    home = re.search(r"temporary home (\S+);", result.stdout)
    try:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        lines = result.stdout.splitlines()
        assert any(line.startswith("alvin_example.extract") and "success" in line for line in lines)
        assert any(line.startswith("alvin_example.flaky") and "up_for_retry" in line for line in lines)
        assert any(line.startswith("alvin_example.skip") and "skipped" in line for line in lines)
        assert f"Airflow {current_row()['airflow']}" in result.stdout
        assert home is not None
        # what `alvin-integration mock-backend --db` would show of this real run
        explorer = Explorer(Store(os.path.join(home.group(1), "alvin.db")))
        (dag_run,) = explorer.runs(dag_id="alvin_example")["dag_runs"]
        flaky = [
            (t["try_number"], t["state"], t["retried"]) for t in dag_run["tries"] if t["task_id"] == "flaky"
        ]
        assert flaky == [(1, "up_for_retry", True), (2, "success", False)]
        graph = explorer.graph(dag_id="alvin_example")
        names = {n["id"]: n["name"] for n in graph["nodes"]}
        edges = {(names[e["source"]], names[e["target"]]) for e in graph["edges"]}
        assert ("raw/orders.csv", "alvin_example.extract") in edges
        assert ("alvin_example.extract", "clean/orders.parquet") in edges
        assert ("alvin_example.transform", "order_totals") in edges
    finally:
        if home is not None:
            shutil.rmtree(home.group(1), ignore_errors=True)
