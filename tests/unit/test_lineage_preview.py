"""``alvin-integration lineage``'s core without Airflow: rendering, the reasons, the output forms."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Dict, List

from alvin_integration.producers.airflow.preview import (
    as_json,
    as_table,
    coverage,
    extractors_setting,
    preview_dags,
    preview_task,
)

DAG = SimpleNamespace(dag_id="shop", start_date=datetime(2026, 3, 1, tzinfo=timezone.utc))


class PythonOperator:
    template_fields = ("op_kwargs",)

    def __init__(self, task_id: str, **kwargs: Any) -> None:
        self.task_id, self.op_kwargs, self.rendered_with = task_id, {"day": "{{ ds }}"}, None
        self.__dict__.update(kwargs)

    def render_template_fields(self, context: Dict[str, Any]) -> None:
        self.rendered_with = context
        self.op_kwargs = {"day": context["ds"]}


class TemplatedOperator(PythonOperator):
    def render_template_fields(self, context: Dict[str, Any]) -> None:
        raise KeyError("var")


def test_a_task_is_rendered_for_its_start_date_and_reports_what_it_declares() -> None:
    task = PythonOperator("extract", inlets=["s3://raw/orders.csv"], outlets=["gs://clean/orders"])
    found = preview_task(task, DAG)
    assert task.op_kwargs == {"day": "2026-03-01"} and task.rendered_with["ds_nodash"] == "20260301"
    assert found.to_dict() == {
        "dag_id": "shop",
        "task_id": "extract",
        "operator": "PythonOperator",
        "inputs": [{"namespace": "s3://raw", "name": "orders.csv"}],
        "outputs": [{"namespace": "gs://clean", "name": "orders"}],
        "reason": None,
    }


def test_a_task_without_datasets_says_why_and_a_template_that_failed_says_so() -> None:
    found = preview_task(TemplatedOperator("notify"), DAG)
    assert found.inputs == [] and found.outputs == [] and found.reason is not None
    assert found.reason.startswith("no extractor for TemplatedOperator: declare inlets/outlets on the task")
    assert "its templates could not be rendered (KeyError: 'var'); read unrendered" in found.reason


def test_sql_without_a_connection_is_the_reason() -> None:
    found = preview_task(PythonOperator("load", sql="INSERT INTO a SELECT * FROM b"), DAG)
    assert found.reason == "tables not named from SQL: no connection"


def test_coverage_and_the_output_forms() -> None:
    tasks: List[Any] = [PythonOperator("a", outlets=["s3://b/k"]), PythonOperator("b"), PythonOperator("c")]
    dags = [
        SimpleNamespace(dag_id="shop", start_date=None, tasks=tasks),
        SimpleNamespace(dag_id="x", tasks=[]),
    ]
    previews = preview_dags(dags, ("shop",))
    assert [p.task_id for p in previews] == ["a", "b", "c"]
    assert round(coverage(previews)) == 33 and coverage([]) == 100.0
    assert [t["task_id"] for t in json.loads(as_json(previews))] == ["a", "b", "c"]
    table = as_table(previews).splitlines()
    assert table[:2] == ["shop.a (PythonOperator)", "    out  s3://b  k"]
    assert table[-1] == "1 of 3 task(s) have lineage (33%)"


def test_the_extractors_setting_is_read_as_task_processes_read_it(tmp_path: Any) -> None:
    cfg = tmp_path / "airflow.cfg"
    cfg.write_text("[alvin]\nextractors = mine.lineage:extract\n")
    assert extractors_setting({"AIRFLOW_CONFIG": str(cfg)}) == "mine.lineage:extract"
    assert extractors_setting({"AIRFLOW_CONFIG": str(cfg), "ALVIN_EXTRACTORS": "env:x"}) == "env:x"
    assert extractors_setting({"AIRFLOW_CONFIG": str(tmp_path / "none.cfg")}) is None
