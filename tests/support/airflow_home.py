"""A throwaway Airflow installation home for tests: SQLite, the example DAG, no examples."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

from alvin_integration.examples import EXAMPLE_CONNECTIONS
from alvin_integration.producers.airflow import version_compat
from tests.support.matrix import current_row
from tests.support.processes import REPO, alvin_env

DAGS = os.path.join(REPO, "compat", "dags")
ROW = current_row()  # the compat/matrix.toml row this environment stands for
GOLDEN = Path(REPO) / "compat" / "expected" / f"alvin_example__{ROW['golden']}.json"
GOLDEN_EVENTS = GOLDEN.with_name(f"alvin_example__{ROW['golden']}.events.json")  # by value
EXPECTED_STATES = {
    "extract": "success",
    "load": "success",
    "transform": "success",
    "flaky": "success",
    "fail": "failed",
    "skip": "skipped",
}


def airflow_bin() -> str:
    """The ``airflow`` command of the running Python environment."""
    return os.path.join(os.path.dirname(sys.executable), "airflow")


def airflow_env(home: str, url: str, **extra: str) -> Dict[str, str]:
    """Environment of an ``airflow`` process with the integration reporting to ``url``."""
    env = alvin_env(url, os.path.join(home, "spool"), **extra)
    env.update(
        # the executors of Airflow 1.10 and 2.x run `airflow` from PATH for each task try
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        AIRFLOW_HOME=home,
        AIRFLOW_CONFIG=os.path.join(home, "airflow.cfg"),
        # absolute paths, so that a copied home uses its own database and logs (1.10 names first)
        AIRFLOW__CORE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__CORE__BASE_LOG_FOLDER=os.path.join(home, "logs"),
        AIRFLOW__LOGGING__BASE_LOG_FOLDER=os.path.join(home, "logs"),
        AIRFLOW__CORE__DAGS_FOLDER=DAGS,
        AIRFLOW__CORE__LOAD_EXAMPLES="false",
        AIRFLOW__CORE__UNIT_TEST_MODE="false",
        AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        # a backfill (1.10, 2.x) and a try's `tasks run --local` look at their tasks once per job
        # heartbeat: at the default 5 s each try of a backfill waited seconds after it ended
        AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC="1",
        ALVIN_EXAMPLE_RETRY_MARKER=os.path.join(home, "retry-marker"),
        ALVIN_FLUSH_TIMEOUT=extra.get("ALVIN_FLUSH_TIMEOUT", "5"),
        # the golden STARTs carry their SQL's tables however loaded the machine (default: 5 ms)
        ALVIN_SQL_START_WAIT_MS="60000",
    )
    env.update(EXAMPLE_CONNECTIONS)
    # Airflow must see the installed package only: the source tree (and the egg-info a wheel build
    # leaves in it) on sys.path would register the plugin's entry point twice.
    env.pop("PYTHONPATH", None)
    return env


def row_env(home: str, url: str, **extra: str) -> Dict[str, str]:
    """``airflow_env`` configured as the README tells this row's users.

    ``[lineage] backend`` on 1.10-2.2; plugins loaded eagerly on 2.0-2.2.
    """
    env = airflow_env(home, url, **extra)
    if version_compat.NEEDS_LINEAGE_BACKEND:
        env["AIRFLOW__LINEAGE__BACKEND"] = version_compat.LINEAGE_BACKEND_CLASS
    if version_compat.NEEDS_EAGER_PLUGINS:  # 2.0-2.2: the scheduler reports DAG runs only then
        section, option, value = version_compat.EAGER_PLUGINS_SETTING
        env[f"AIRFLOW__{section.upper()}__{option.upper()}"] = value
    return env


def fresh_home(migrated_home: str, target: Path) -> str:
    """A copy of the migrated home with its own spool, so runs do not see each other."""
    shutil.copytree(migrated_home, str(target))
    return str(target)


def run_airflow(env: Dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run an ``airflow`` CLI command as a real process."""
    return subprocess.run(
        [airflow_bin(), *args],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def init_db(env: Dict[str, str]) -> None:
    """Create the metadata database and record the example DAG, on any Airflow version."""
    for command in version_compat.INIT_DB_COMMANDS:
        result = run_airflow(env, *command)
        if result.returncode == 0:
            break
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # `dags test` does not record the DAG itself on Airflow 2.6+; the state queries need it.
    run_airflow(env, "dags", "reserialize")


RUN_DATE = "2026-11-01"
Completed = "subprocess.CompletedProcess[str]"


def run_example_dag(env: Dict[str, str], how: str, dag_id: str = "alvin_example") -> Completed:
    """Run a DAG of compat/dags as the matrix row says (``how``: "dags test", or task processes)."""
    command = version_compat.run_dag_command(
        dag_id, RUN_DATE, task_processes=how != "dags test", version_text=version_compat.AIRFLOW_VERSION_TEXT
    )
    return run_airflow(env, *command)


def task_lines(events: List[dict]) -> List[str]:
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


TASKS = tuple(EXPECTED_STATES)


def task_states(
    env: Dict[str, str], dag_id: str = "alvin_example", tasks: Tuple[str, ...] = TASKS
) -> Dict[str, str]:
    """Final state of each task of the latest run of a DAG, read through the airflow CLI."""
    if version_compat.NEEDS_LINEAGE_BACKEND:  # a backfill of RUN_DATE, found by its date
        command = ["tasks", "state"] if version_compat.AIRFLOW_V_2_PLUS else ["task_state"]
        states = {}
        for task in tasks:
            result = run_airflow(env, *command, dag_id, task, RUN_DATE)
            assert result.stdout.strip(), result.stderr[-2000:]
            states[task] = result.stdout.strip().splitlines()[-1]
        return states
    runs = run_airflow(env, "dags", "list-runs", dag_id, "-o", "json")  # Airflow 3
    if runs.returncode != 0:
        runs = run_airflow(env, "dags", "list-runs", "-d", dag_id, "-o", "json")  # Airflow 2
    run_id = _json_of(runs.stdout)[0]["run_id"]
    states = run_airflow(env, "tasks", "states-for-dag-run", dag_id, run_id, "-o", "json")
    return {row["task_id"]: row["state"] for row in _json_of(states.stdout)}
