"""The reporting policy on this row's Airflow: real DAGs and operators through the report path.

Each case builds a real DAG (tags included) with real operators, and reports a try of one of its
tasks through ``report.report_task`` (the path every adapter takes), with settings as a user sets
them. What is left out must reach no event and no extraction; what stays is reported unchanged
but for the payload switches.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any, Dict, List

import pytest

from alvin_integration.logs import forget_said
from alvin_integration.producers.airflow import report, selection
from alvin_integration.producers.airflow.extract import task_lineage
from tests.support.recording import RecordingEmitter, fake_ti


def _operators() -> Dict[str, Any]:
    try:
        from airflow.operators.python import PythonOperator  # 2.x
    except ImportError:
        try:
            from airflow.providers.standard.operators.python import PythonOperator  # 3.x
        except ImportError:
            from airflow.operators.python_operator import PythonOperator  # 1.10
    try:
        from airflow.operators.empty import EmptyOperator as Empty  # 2.3+
    except ImportError:
        try:
            from airflow.providers.standard.operators.empty import EmptyOperator as Empty
        except ImportError:
            from airflow.operators.dummy_operator import DummyOperator as Empty
    return {"python": PythonOperator, "empty": Empty}


def _dag(dag_id: str, tags: List[str]) -> Any:
    from airflow import DAG

    try:
        dag = DAG(dag_id, start_date=datetime(2026, 11, 1), schedule=None, tags=tags)  # 2.4+
    except TypeError:
        dag = DAG(dag_id, start_date=datetime(2026, 11, 1), schedule_interval=None, tags=tags)
    operators = _operators()
    with dag:
        operators["python"](task_id="load", python_callable=lambda: None)
        operators["empty"](task_id="start")
    return dag


def _report(
    recorded: RecordingEmitter, dag: Any, task_id: str, state: str = "running", **settings: Any
) -> int:
    recorded.settings = dataclasses.replace(recorded.settings, **settings)
    before = len(recorded.events)
    ti = fake_ti(state, task=dag.get_task(task_id))
    ti.dag_id, ti.task_id = dag.dag_id, task_id
    event = report.START if state == "running" else report.FAIL
    report.report_task(event, ti, 1, state, error=ValueError("boom") if event == report.FAIL else None)
    return len(recorded.events) - before


@pytest.fixture
def no_extraction(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Records every extraction: what is left out must not cost one."""
    extracted: List[str] = []
    real = task_lineage.lineage_of

    def spy(task_try: Any, *args: Any, **kwargs: Any) -> Any:
        extracted.append(task_try.task_id)
        return real(task_try, *args, **kwargs)

    monkeypatch.setattr(report, "lineage_of", spy)
    return extracted


def test_the_defaults_report_every_task(recorded: RecordingEmitter, no_extraction: List[str]) -> None:
    dag = _dag("alvin_policy", [])
    assert _report(recorded, dag, "load") == 1 and _report(recorded, dag, "start") == 1
    assert no_extraction == ["load", "start"]


@pytest.mark.parametrize(
    "settings, dag_id, tags, task_id, reported",
    [
        ({"dags": "etl_*"}, "etl_orders", [], "load", True),
        ({"dags": "etl_*"}, "scratch_bob", [], "load", False),
        ({"dags": "!scratch_*"}, "scratch_bob", [], "load", False),
        ({"dags": "*,!alvin_policy.load"}, "alvin_policy", [], "load", False),
        ({"dags": "*,!alvin_policy.load"}, "alvin_policy", [], "start", True),
        ({}, "alvin_policy", ["alvin:off"], "load", False),
        ({"skip_operators": "EmptyOperator,DummyOperator"}, "alvin_policy", [], "start", False),
        ({"skip_operators": "EmptyOperator,DummyOperator"}, "alvin_policy", [], "load", True),
        ({"skip_operators": "BaseOperator"}, "alvin_policy", [], "load", False),  # a base class counts
    ],
)
def test_included_or_left_out_by_pattern_tag_or_operator(
    recorded: RecordingEmitter,
    no_extraction: List[str],
    settings: Dict[str, Any],
    dag_id: str,
    tags: List[str],
    task_id: str,
    reported: bool,
) -> None:
    dag = _dag(dag_id, tags)
    assert _report(recorded, dag, task_id, **settings) == int(reported)
    assert no_extraction == ([task_id] if reported else [])  # what is left out costs no extraction


def test_a_bad_pattern_disables_nothing_and_is_logged_once(
    recorded: RecordingEmitter, caplog: pytest.LogCaptureFixture
) -> None:
    forget_said()
    selection._built = None
    dag = _dag("alvin_policy", [])
    with caplog.at_level(logging.WARNING, logger="alvin_integration"):
        assert _report(recorded, dag, "load", dags="etl orders") == 1
        assert _report(recorded, dag, "load") == 1  # the same settings object: the policy is built once
    said = [r.getMessage() for r in caplog.records if "'etl orders' ignored" in r.getMessage()]
    assert len(said) == 1, said


def test_payload_switches_withhold_sql_and_stack_traces(recorded: RecordingEmitter) -> None:
    dag = _dag("alvin_policy", [])
    assert _report(recorded, dag, "load", "failed", send_stack_traces=False) == 1
    event = recorded.events[-1]
    assert event["run"]["facets"]["errorMessage"].get("stackTrace") is None
    assert event["run"]["facets"]["errorMessage"]["message"].startswith("ValueError")
    assert event["run"]["facets"]["alvin"]["withheld"] == ["stack_trace"]
