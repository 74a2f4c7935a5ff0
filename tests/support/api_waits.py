"""Who waits for the API: the records of tests/support/audit_watch, and what they must show."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List

from alvin_integration.flush_wait import SLOW_API_SECONDS, silence_budget
from tests.support.processes import REPO

AUDIT_WATCH = os.path.join(REPO, "tests", "support", "audit_watch")


def watched(env: Dict[str, str], log: Path, api_port: int) -> Dict[str, str]:
    """``env`` with the audit watch loaded in every Python process, recording to ``log``."""
    return dict(
        env, PYTHONPATH=AUDIT_WATCH, ALVIN_TEST_AUDIT_LOG=str(log), ALVIN_TEST_AUDIT_PORT=str(api_port)
    )


def audit_records(log: Path) -> List[Dict[str, Any]]:
    """What the watch recorded in every process so far."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line]


def assert_only_tries_wait(records: List[Dict[str, Any]], components: Iterable[int]) -> None:
    """Every wait for the API was a try's, only our threads connected to it, and not every try waited.

    ``components``: the pids of the processes started (scheduler, worker, triggerer...).
    """
    tries = {r["pid"] for r in records if r["kind"] == "emit" and r["event"] == "task"}
    dag_runs = {r["pid"] for r in records if r["kind"] == "emit" and r["event"] == "dag_run"}
    waited = {r["pid"] for r in records if r["kind"] == "wait"}
    connects = [r for r in records if r["kind"] == "connect"]
    # The scheduler (or 1.10's DAG processors) reported the DAG run, and no process that ran no try
    # waited for the API: neither the components nor what they forked.
    assert dag_runs - tries, "no process but a try's reported the DAG run"
    assert waited <= tries, [r for r in records if r["kind"] == "wait" and r["pid"] not in tries]
    assert not waited & set(components)
    # Only our own threads talked to the API (nothing of the host blocked on it), and they did.
    assert [r for r in connects if not r["thread"].startswith("alvin-")] == []
    assert connects, "the watch saw no connection to the API at all"
    # The first tries to meet the outage waited at most their bounded budget; the tries after them
    # did not. (A try whose first request was unanswered past its budget before it ended waits not
    # at all, so on a busy machine no try may wait: the watch's connections prove it watched.)
    assert len(waited) < len(tries), (sorted(waited), sorted(tries))
    budgets = [r["budget"] for r in records if r["kind"] == "wait"]
    assert all(budget <= silence_budget(SLOW_API_SECONDS) for budget in budgets), budgets


def assert_each_dag_run_started_once(records: List[Dict[str, Any]]) -> None:
    """Each DAG run's START was spooled once on the machine, however many processes saw it run."""
    starts = Counter(
        (r["job"], r["run"])
        for r in records
        if r["kind"] == "emit" and r["event"] == "dag_run" and r["type"] == "START"
    )
    assert starts, "no DAG run START was spooled"
    assert {run: n for run, n in starts.items() if n > 1} == {}


def assert_a_hung_api_held_up_no_host_process(log: Path, components: Iterable[int]) -> None:
    """What the watch recorded in a deployment whose API hung: ``assert_only_tries_wait`` and
    ``assert_each_dag_run_started_once``."""
    records = audit_records(log)
    assert_only_tries_wait(records, components)
    assert_each_dag_run_started_once(records)
