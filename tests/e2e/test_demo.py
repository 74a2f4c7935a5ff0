"""`alvin-integration demo` inside this row's Airflow, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.matrix import current_row


def test_demo_runs_the_example_dag_and_shows_what_alvin_received() -> None:
    command = [os.path.join(os.path.dirname(sys.executable), "alvin-integration"), "demo"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd="/")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("alvin_example.extract") and "success" in line for line in lines)
    assert any(line.startswith("alvin_example.flaky") and "up_for_retry" in line for line in lines)
    assert any(line.startswith("alvin_example.skip") and "skipped" in line for line in lines)
    assert f"Airflow {current_row()['airflow']}" in result.stdout
