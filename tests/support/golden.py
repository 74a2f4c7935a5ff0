"""Golden events by value: every field compared, only what must vary masked.

Masked: times (left out where their presence differs by version), the Airflow and package
versions, the DAG run's id (its form differs between `dags test`, a backfill and the scheduler)
and stack traces (paths and line numbers).
Run ids are not masked but named: every id must equal what our wire contract computes from
(dag_id, task_id, DAG run id, try), so a wrong key, or a parent that points anywhere but the DAG
run, shows up as an id with no name.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Dict, List

import pytest

from alvin_integration import __version__
from alvin_integration.model import dag_run_run_id, task_run_id

TIME_FIELDS = {"eventTime", "nominalStartTime"}
# Times whose presence differs by Airflow version (1.10 has no data interval; when a try's start and
# end are set differs): left out, not compared.
UNSTABLE_FIELDS = {"start_date", "end_date", "duration", "nominalEndTime"}
VERSION_FIELDS = {"airflow_version", "integration_version"}
ORDER = {"START": 0, "RUNNING": 1, "COMPLETE": 2, "FAIL": 2}


def _names(event: Dict[str, Any]) -> Dict[str, str]:
    """The ids this event may carry, by the name they are shown under."""
    details = event["run"]["facets"].get("alvin", {})
    dag_id, dag_run = details.get("dag_id"), details.get("run_id")
    names = {dag_run_run_id(dag_id, dag_run): "<id of the DAG run>", dag_run: "<DAG run>"}
    if "task_id" in details:
        task = details["task_id"]
        if details.get("map_index") is not None:
            task = f"{task}[{details['map_index']}]"
        names[task_run_id(dag_id, task, dag_run, details["try_number"])] = "<id of this task try>"
    return names


def _mask(value: Any, key: str, names: Dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k, names) for k, v in sorted(value.items()) if k not in UNSTABLE_FIELDS}
    if isinstance(value, list):
        return [_mask(v, key, names) for v in value]
    if value is None:
        return None
    if key in TIME_FIELDS:
        return "<time>"
    if key in VERSION_FIELDS:
        return "<version>"
    if key == "stackTrace":
        return "<stack trace>"
    if isinstance(value, str):
        return names.get(value, value.replace(__version__, "<version>"))
    return value


def masked_events(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The task-try events received, masked, in a stable order (job, try, transition)."""
    tasks = [e for e in events if "task_id" in e["run"]["facets"].get("alvin", {})]
    tasks.sort(
        key=lambda e: (
            e["job"]["name"],
            e["run"]["facets"]["alvin"]["try_number"],
            ORDER[e["eventType"]],
        )
    )
    return [_mask(event, "", _names(event)) for event in tasks]


def assert_golden(actual: Any, path: Path) -> None:
    """``actual`` equals the file; with ALVIN_UPDATE_GOLDEN set, rewrite it and fail (review it)."""
    if os.environ.get("ALVIN_UPDATE_GOLDEN"):  # rewrites the file, and never passes by itself
        path.write_text(json.dumps(actual, indent=1, ensure_ascii=False) + "\n")
        pytest.fail(f"{path} rewritten: review `git diff`, then run again without ALVIN_UPDATE_GOLDEN")
    assert path.exists(), f"no golden file {path}; run once with ALVIN_UPDATE_GOLDEN=1 and review it"
    expected = json.loads(path.read_text())
    if actual != expected:
        lines = [json.dumps(x, indent=1, ensure_ascii=False).splitlines() for x in (expected, actual)]
        diff = "\n".join(difflib.unified_diff(*lines, str(path), "received", lineterm="", n=2))
        pytest.fail(f"the events differ from {path.name}:\n{diff[:20_000]}")
