"""The ids a receiver dedupes on are part of our wire contract: fixed values, written out here.

Changing how a run id or an event id is derived is a breaking change for every receiver (its
dedupe would see new events, or merge distinct ones): it must fail this test and be written in
the changelog.
"""

from __future__ import annotations

from alvin_integration.model import COMPLETE, FAIL, START, Job, Run, RunEvent, dag_run_run_id, task_run_id
from alvin_integration.producers.airflow.read import TaskTry

DAG_RUN = "scheduled__2026-11-01T00:00:00+00:00"


def test_a_task_try_has_a_fixed_run_id() -> None:
    assert task_run_id("alvin_example", "extract", DAG_RUN, 1) == "9f785e7d-7824-5ac2-bc3c-1e45ef8eb080"


def test_a_dag_run_has_a_fixed_run_id() -> None:
    assert dag_run_run_id("alvin_example", DAG_RUN) == "e2bf3f5f-6a99-556e-b399-da500ace4ea4"


def test_each_transition_of_a_try_has_a_fixed_event_id() -> None:
    run = Run("9f785e7d-7824-5ac2-bc3c-1e45ef8eb080")
    ids = {
        kind: RunEvent(kind, run, Job("any-namespace", "alvin_example.extract")).event_id
        for kind in (START, COMPLETE, FAIL)
    }
    assert ids == {
        START: "70ceae43-48eb-5182-b5b5-de248953aaea",
        COMPLETE: "5e02da30-4ac5-5ce7-b2b0-0f2f5322c274",
        FAIL: "249e5dfe-e121-58f3-b6ec-d207762f7fa8",
    }


def test_other_dag_runs_tries_and_mapped_indexes_get_other_fixed_ids() -> None:
    def run_id(
        dag_run: str = DAG_RUN, try_number: int = 1, map_index: int = -1, task: str = "extract"
    ) -> str:
        return TaskTry("alvin_example", task, dag_run, try_number, "running", map_index=map_index).run_id

    ids = {
        "next day": run_id(dag_run="scheduled__2026-11-02T00:00:00+00:00"),
        "second try": run_id(try_number=2),
        "map index 0": run_id(task="mapped", map_index=0),
        "map index 1": run_id(task="mapped", map_index=1),
    }
    assert ids == {
        "next day": "80f41443-cdb0-55e7-9482-8f46b975104f",
        "second try": "05c11062-8338-5f25-b216-32d058f55243",
        "map index 0": "26500a13-d9b6-5e3e-9af3-0a5f7885bf26",
        "map index 1": "8bb86250-aab5-59ef-bc1f-1766c2246925",
    }
    assert run_id() == "9f785e7d-7824-5ac2-bc3c-1e45ef8eb080"  # not mapped: the plain task id
    assert len({*ids.values(), run_id()}) == 5
