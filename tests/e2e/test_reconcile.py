"""``alvin-integration reconcile``: the events a lost spool held come back from Airflow's database.

The example DAG runs with the API refusing, so every event waits in the spool; the spool is then
moved away (a worker's disk lost, a process killed before it spooled). Reconcile, run with the API
up, rebuilds from the metadata database what the tries and DAG runs should have produced; a second
reconcile sends nothing. The moved-away spool, delivered afterwards, adds nothing for the tries
reconcile covered: both carry the same event ids, and the receiver dedupes on them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import EXPECTED_STATES, ROW, fresh_home, row_env, run_example_dag, task_states
from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess, alvin_env, run_cli
from tests.support.skips import full_rows_only

pytestmark = [full_rows_only]
TERMINAL = {"success": "COMPLETE", "skipped": "COMPLETE", "failed": "FAIL"}


def _tries(events: List[Dict[str, Any]]) -> Set[Tuple[str, int, str]]:
    """(task, try, event type) of the task events received."""
    found = set()
    for item in events:
        details = item["event"]["run"]["facets"]["alvin"]
        if "task_id" in details:
            found.add((details["task_id"], details["try_number"], item["event"]["eventType"]))
    return found


def test_reconcile_recovers_a_lost_spool_once_with_the_live_event_ids(
    migrated_home: str, tmp_path: Path
) -> None:
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        home = fresh_home(migrated_home, tmp_path / "home")
        run_example_dag(row_env(home, refused_url(), ALVIN_FLUSH_TIMEOUT="1"), ROW["run"])
        env = row_env(home, backend.url)
        assert task_states(env) == EXPECTED_STATES
        lost = str(tmp_path / "lost-spool")
        shutil.move(os.path.join(home, "spool"), lost)

        first = run_cli(env, "reconcile", "--since", "7d", timeout=300)
        assert first.returncode == 0, first.stdout + first.stderr
        print(first.stdout, first.stderr)
        assert "0 already delivered" in first.stdout and "spooled now" in first.stdout, first.stdout
        events = backend.get("/api/v1/events")
        tries = _tries(events)
        for task, state in EXPECTED_STATES.items():  # every task's last try ended as it did
            assert any(t == task and kind == TERMINAL[state] for t, _, kind in tries), (task, sorted(tries))
            assert any(t == task and kind == "START" for t, _, kind in tries), task
        fail = next(
            i["event"]
            for i in events
            if i["event"]["job"]["name"] == "alvin_example.fail" and i["event"]["eventType"] == "FAIL"
        )
        assert fail["run"]["facets"]["alvin"]["state"] == "failed"
        assert "reconcile" in fail["run"]["facets"]["errorMessage"]["message"]
        if version_compat.AIRFLOW_V_2_10_PLUS:  # earlier tries are kept in TaskInstanceHistory
            assert ("flaky", 1, "FAIL") in tries and ("flaky", 2, "COMPLETE") in tries
        dag_runs = [i["event"] for i in events if i["event"]["job"]["name"] == "alvin_example"]
        assert [e["eventType"] for e in dag_runs] == ["START", "FAIL"]

        second = run_cli(env, "reconcile", "--since", "7d", timeout=300)
        assert second.returncode == 0, second.stdout + second.stderr
        assert f"{len(events)} already delivered, 0 waiting in the spool, 0 spooled now" in second.stdout, (
            second.stdout
        )
        assert len(backend.get("/api/v1/events")) == len(events)

        # The live events of the same tries arrive late: their ids are the rebuilt ones.
        late = run_cli(alvin_env(backend.url, lost), "spool", "flush")
        assert late.returncode == 0, late.stderr
        after = _tries(backend.get("/api/v1/events"))
        assert {
            t for t in after - tries if t[2] != "RUNNING"
        } == set() or not version_compat.AIRFLOW_V_2_10_PLUS
    finally:
        backend.stop()
