"""``alvin-integration reconcile --backfill``: onboarding with history, on this row's Airflow.

The example DAG runs while the Alvin API refuses every connection, then its spool is lost: what
is left is Airflow's metadata database, as for a team that installs us after months of runs. The
command rebuilds every try's events from it with the lineage its DAG's current definition names
for the try's logical date (no task runs, no connection opens), read a page of two tries at a time.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tests.e2e.test_lineage_cli import EXPECTED, pairs
from tests.support.airflow_home import DAGS, ROW, fresh_home, row_env, run_example_dag
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess, run_cli
from tests.support.skips import onboarding_rows_only

pytestmark = onboarding_rows_only

Home = Tuple[Dict[str, str], MockBackendProcess]


@pytest.fixture(scope="module")
def history(migrated_home: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    """A home whose database remembers one run of the example DAG, its spool gone; a mock API."""
    work = tmp_path_factory.mktemp("backfill")
    backend = MockBackendProcess(str(work / "alvin.db"))
    try:
        home = fresh_home(migrated_home, work / "home")
        run_example_dag(row_env(home, refused_url()), ROW["run"])  # some of its tasks fail on purpose
        shutil.rmtree(Path(home, "spool"), ignore_errors=True)  # the disk that went away
        yield row_env(home, backend.url), backend
    finally:
        backend.stop()


def _tries(events: List[Dict[str, Any]]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    found: Dict[Tuple[str, str], Dict[str, Any]] = {}
    for item in events:
        event = item["event"]
        dag, _, task = event["job"]["name"].partition(".")
        if dag == "alvin_example" and task:
            found[(task, event["eventType"])] = event
    return found


def backfill(env: Dict[str, str], *args: str) -> Any:
    """``alvin-integration reconcile --backfill`` of the example DAG, as a real process."""
    result = run_cli(
        env, "reconcile", "--backfill", "--dags-folder", DAGS, "--dag-id", "alvin_example", *args, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result


def test_a_dry_run_prints_the_events_with_their_lineage_and_spools_nothing(history: Home) -> None:
    env, backend = history
    result = backfill(env, "--dry-run")
    assert "(dry run: nothing spooled)" in result.stdout
    assert "START alvin_example.load try 1" in result.stdout
    assert "in postgres://example-db:5432/warehouse.staging.orders" in result.stdout
    assert backend.get("/api/v1/events") == []
    assert not Path(env["AIRFLOW_HOME"], "spool").exists() or not any(
        Path(env["AIRFLOW_HOME"], "spool").iterdir()
    )


def test_every_past_try_is_rebuilt_with_its_definitions_lineage_in_pages(history: Home) -> None:
    env, backend = history
    result = backfill(env, "--page-size", "2")
    assert "try(s) with lineage" in result.stdout, result.stdout
    tries = _tries(backend.get("/api/v1/events"))
    for task, (_, inputs, outputs) in EXPECTED.items():
        start = tries.get((task, "START"))
        if not (inputs or outputs) and start is None:
            continue  # a task without lineage that never started on this row (skipped before it ran)
        assert start is not None, f"{task}: {sorted(tries)}"
        assert (pairs(start["inputs"]), pairs(start["outputs"])) == (inputs, outputs), task
        alvin = start["run"]["facets"]["alvin"]
        assert alvin["rebuilt_by"] == "alvin-integration reconcile"
        assert alvin["lineage"].startswith("rebuilt from the DAG's current definition")
    ended = [kind for (task, kind) in tries if task == "load" and kind != "START"]
    assert ended, sorted(tries)
    again = backfill(env)
    assert " 0 spooled now" in again.stdout, again.stdout  # what was delivered is not sent again
