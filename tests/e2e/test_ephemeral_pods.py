"""A pod per try (the KubernetesExecutor's shape): each try's spool ends with it, so nothing is left.

A real scheduler runs ``alvin_chain`` (three tries in a row) with an executor that starts each try
as its own process with ``AIRFLOW_IS_K8S_EXECUTOR_POD=True`` and a spool of its own, deleted when the
process ends (tests/support/pod_executor). The pods report to an API that is healthy, slow, or fails
twice first: every event arrives, because no later process will find the spool. With
``ALVIN_FLUSH_TIMEOUT`` shorter than the API's latency, events are lost, and each try's log says so.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from tests.e2e.test_scheduler import scheduler_deployment
from tests.support.airflow_home import run_airflow
from tests.support.celery_deployment import TEST_DAGS
from tests.support.deployment import WAIT_SECONDS, start, stop, trigger_when_parsed
from tests.support.fault_server import FaultServer
from tests.support.processes import REPO
from tests.support.skips import not_composer_row, runs_dags_test

pytestmark = [runs_dags_test, not_composer_row]

POD_EXECUTOR = Path(REPO) / "tests" / "support" / "pod_executor" / "alvin_pod_executor.py"
TASKS = ("one", "two", "three")
LOST = "this worker's spool ends with it (ephemeral worker), so they are lost"


class PodDeployment:
    """A scheduler whose executor runs each try in a pod; the pods report to ``api``."""

    def __init__(self, migrated_home: str, tmp_path: Path) -> None:
        self.api = FaultServer()  # the pods' API
        self.rest = FaultServer()  # the scheduler's (DAG runs, definitions): out of the pods' way
        self.pod_env = tmp_path / "pod-env.json"
        self.logs = tmp_path
        self.env, components = scheduler_deployment(migrated_home, tmp_path, self.rest.url)
        self.home = Path(self.env["AIRFLOW_HOME"])
        (self.home / "config").mkdir(exist_ok=True)
        shutil.copy(POD_EXECUTOR, self.home / "config")
        self.env.update(
            AIRFLOW__CORE__DAGS_FOLDER=TEST_DAGS,
            AIRFLOW__CORE__EXECUTOR="alvin_pod_executor.PodPerTryExecutor",
            ALVIN_TEST_POD_ENV=str(self.pod_env),
        )
        self.unpaused = False
        self.procs = [start(self.env, args, tmp_path / f"{args[0]}.log") for args in components]

    def run(self, run_id: str, **pod_env: str) -> None:
        """Trigger one run of ``alvin_chain`` whose pods get ``pod_env``, and wait for its end."""
        self.pod_env.write_text(json.dumps({"ALVIN_URL": self.api.url, **pod_env}))
        result = trigger_when_parsed(self.env, ["dags", "trigger", "alvin_chain", "--run-id", run_id])
        assert result.returncode == 0, result.stderr[-2000:]
        if not self.unpaused:  # paused at creation: a scheduled run would come in between
            assert run_airflow(self.env, "dags", "unpause", "alvin_chain").returncode == 0
            self.unpaused = True
        deadline = time.monotonic() + WAIT_SECONDS
        while self.state(run_id) not in ("success", "failed"):
            assert time.monotonic() < deadline, f"{run_id} did not end in time; see {self.logs}"
            assert all(p.poll() is None for p in self.procs), f"an Airflow component died; see {self.logs}"
            time.sleep(1)
        assert self.state(run_id) == "success", f"{run_id}: a try failed; see {self.logs}"

    def state(self, run_id: str) -> str:
        """The DAG run's state in the metadata database."""
        with sqlite3.connect(str(self.home / "airflow.db"), timeout=30) as db:
            row = db.execute(
                "SELECT state FROM dag_run WHERE dag_id = 'alvin_chain' AND run_id = ?", (run_id,)
            ).fetchone()
        return str(row[0]) if row else ""

    def delivered(self, run_id: str) -> Set[Tuple[str, str]]:
        """(task, event type) of the run's task events the pods' API answered with 200."""
        found = set()
        for request in list(self.api.requests):
            if request["status"] != 200 or request["path"] != "/api/v1/lineage":
                continue
            event = json.loads(request["body"])
            details = event["run"]["facets"]["alvin"]
            if details.get("run_id") == run_id and "task_id" in details:
                found.add((details["task_id"], event["eventType"]))
        return found

    def task_logs(self, run_id: str) -> Dict[str, str]:
        """Each try's log (Airflow 2 and 3 name its file ``attempt=1.log`` under the run's folder)."""
        logs: Dict[str, str] = {}
        for task in TASKS:
            files = sorted((self.home / "logs").rglob(f"run_id={run_id}/task_id={task}/*.log"))
            logs[task] = "".join(path.read_text(errors="replace") for path in files)
        return logs

    def close(self) -> None:
        """Stop the scheduler and the servers."""
        stop(self.procs)
        self.api.close()
        self.rest.close()


@pytest.fixture(scope="module")
def pods(migrated_home: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodDeployment]:
    """One deployment for the module: each test triggers runs of its own."""
    deployment = PodDeployment(migrated_home, tmp_path_factory.mktemp("pods"))
    try:
        yield deployment
    finally:
        deployment.close()


EVERY_EVENT = {(task, kind) for task in TASKS for kind in ("START", "COMPLETE")}
API_STATES: List[Tuple[str, str, Tuple[str, ...]]] = [
    ("healthy", "ok", ()),
    ("slow", "slow:1.5", ()),  # answers after 1.5 s: a shared disk's try would not wait for it
    ("503_twice", "ok", ("status:503", "status:503")),
]


@pytest.mark.parametrize(("name", "mode", "first"), API_STATES, ids=[s[0] for s in API_STATES])
def test_every_event_of_a_pod_arrives_before_its_disk_is_gone(
    pods: PodDeployment, name: str, mode: str, first: Tuple[str, ...]
) -> None:
    pods.api.default = mode
    pods.api.queue(*first)
    pods.run(f"pods_{name}")
    assert pods.delivered(f"pods_{name}") == EVERY_EVENT
    logs = pods.task_logs(f"pods_{name}")
    assert all(logs.values()), f"a try left no log; see {pods.logs}"
    assert not [task for task, text in logs.items() if LOST in text]


def test_a_pod_that_cannot_wait_long_enough_says_its_events_are_lost(pods: PodDeployment) -> None:
    pods.api.default = "slow:4"  # longer than the pods' ALVIN_FLUSH_TIMEOUT
    pods.run("pods_too_slow", ALVIN_FLUSH_TIMEOUT="0.5")
    logs = pods.task_logs("pods_too_slow")
    silent = [task for task, text in logs.items() if LOST not in text]
    assert not silent, f"these tries lost events without a word: {silent}; see {pods.logs}"
    assert all(text.count(LOST) == 1 for text in logs.values())  # once per process
