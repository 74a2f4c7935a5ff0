"""A throwaway Airflow installation home for tests: SQLite, the example DAG, no examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Dict, List

from tests.support.processes import REPO, alvin_env

DAGS = os.path.join(REPO, "compat", "dags")


def airflow_bin() -> str:
    """The ``airflow`` command of the running Python environment."""
    return os.path.join(os.path.dirname(sys.executable), "airflow")


def airflow_env(home: str, url: str, **extra: str) -> Dict[str, str]:
    """Environment of an ``airflow`` process with the integration reporting to ``url``."""
    env = alvin_env(url, os.path.join(home, "spool"), **extra)
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__DAGS_FOLDER=DAGS,
        AIRFLOW__CORE__LOAD_EXAMPLES="false",
        AIRFLOW__CORE__UNIT_TEST_MODE="false",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        ALVIN_EXAMPLE_RETRY_MARKER=os.path.join(home, "retry-marker"),
        ALVIN_FLUSH_TIMEOUT=extra.get("ALVIN_FLUSH_TIMEOUT", "5"),
    )
    return env


def run_airflow(env: Dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run an ``airflow`` CLI command as a real process."""
    return subprocess.run([airflow_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def init_db(env: Dict[str, str]) -> None:
    """Create the metadata database (``db migrate``, or ``db init`` where that is all there is)."""
    result = run_airflow(env, "db", "migrate")
    if result.returncode != 0 and "invalid choice" in result.stderr:
        result = run_airflow(env, "db", "init")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # `dags test` on Airflow 2 does not record the DAG itself; the state queries below need it.
    result = run_airflow(env, "dags", "reserialize")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def dags_test(env: Dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    """``airflow dags test alvin_example`` (the DAG has a failing task, so the run fails)."""
    return run_airflow(env, "dags", "test", "alvin_example", *extra)


def task_lines(events: List[dict]) -> List[str]:  # type: ignore[type-arg]
    """One comparable line per task event: what a golden file holds (no times or ids)."""
    lines = []
    for item in events:
        event = item["event"]
        details = event["run"]["facets"].get("alvin", {})
        if "task_id" not in details:
            continue
        lines.append(
            " | ".join(
                [
                    event["job"]["name"],
                    f"try {details.get('try_number')}",
                    event["eventType"],
                    str(details.get("state")),
                    "in=" + ",".join(f"{d['namespace']}/{d['name']}" for d in event["inputs"]),
                    "out=" + ",".join(f"{d['namespace']}/{d['name']}" for d in event["outputs"]),
                    "run:" + ",".join(sorted(event["run"]["facets"])),
                    "job:" + ",".join(sorted(event["job"]["facets"])),
                ]
            )
        )
    order = {"START": 0, "RUNNING": 1, "COMPLETE": 2, "FAIL": 2}
    return sorted(
        lines, key=lambda line: (line.split(" | ")[0], line.split(" | ")[1], order[line.split(" | ")[2]])
    )


def _json_of(output: str) -> Any:
    line = next(line for line in reversed(output.splitlines()) if line.startswith("[{") or line == "[]")
    return json.loads(line)


def task_states(env: Dict[str, str]) -> Dict[str, str]:
    """Final state of each task of the latest ``alvin_example`` run, read through the airflow CLI."""
    runs = run_airflow(env, "dags", "list-runs", "alvin_example", "-o", "json")  # Airflow 3
    if runs.returncode != 0:
        runs = run_airflow(env, "dags", "list-runs", "-d", "alvin_example", "-o", "json")  # Airflow 2
    run_id = _json_of(runs.stdout)[0]["run_id"]
    states = run_airflow(env, "tasks", "states-for-dag-run", "alvin_example", run_id, "-o", "json")
    return {row["task_id"]: row["state"] for row in _json_of(states.stdout)}
