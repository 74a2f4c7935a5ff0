"""``alvin-integration lineage`` in this row's Airflow: what each task will report on START, by value.

A real process of the CLI, configured as the row's users configure Airflow, on the example DAGs
(compat/dags). Nothing is sent (the API address refuses connections) and no task runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from alvin_integration.examples import EXAMPLE_CONN_ID
from tests.support.airflow_home import DAGS, fresh_home, row_env
from tests.support.fault_server import refused_url

NO_EXTRACTOR = "no extractor for PythonOperator: declare inlets/outlets on the task, or register an extractor"
POSTGRES, SQLITE = "postgres://example-db:5432", "sqlite://alvin_example.db"
EXPECTED = {  # task: (operator, inputs, outputs), what the golden START events carry
    "extract": (
        "PythonOperator",
        [("s3://alvin-example", "raw/orders.csv")],
        [("s3://alvin-example", "clean/orders.parquet")],
    ),
    "load": (
        "SqlCarrier",
        [(POSTGRES, "warehouse.staging.orders")],
        [(POSTGRES, "warehouse.analytics.orders")],
    ),
    "transform": (
        "SqliteQuery",
        [(SQLITE, "raw_orders")],
        [(SQLITE, "raw_orders"), (SQLITE, "order_totals")],
    ),
    "fail": ("PythonOperator", [], []),
    "flaky": ("PythonOperator", [], []),
    "skip": ("PythonOperator", [], []),
}
# A templated SQL: rendered for the DAG's start date (2026-01-01) before its tables are named.
TEMPLATED_DAG = '''
"""A DAG for airflow whose SQL is templated."""
from alvin_integration.examples.alvin_example import SqliteQuery, make_dag

with make_dag("alvin_templated") as dag:
    SqliteQuery(
        task_id="daily",
        conn_id="alvin_example_sqlite",
        sql="INSERT INTO orders_{{ ds_nodash }} SELECT * FROM raw_orders WHERE day = '{{ ds }}'",
    )
'''


def lineage(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [os.path.join(os.path.dirname(sys.executable), "alvin-integration"), "lineage", *args]
    return subprocess.run(
        command, env=env, cwd=env["AIRFLOW_HOME"], capture_output=True, text=True, timeout=300
    )


def by_task(result: subprocess.CompletedProcess[str]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    assert result.stdout.strip(), result.stderr[-3000:]
    return {(t["dag_id"], t["task_id"]): t for t in json.loads(result.stdout)}


def pairs(datasets: List[Dict[str, str]]) -> List[Tuple[str, str]]:
    return [(d["namespace"], d["name"]) for d in datasets]


@pytest.fixture
def env(migrated_home: str, tmp_path: Path) -> Dict[str, str]:
    return row_env(fresh_home(migrated_home, tmp_path / "home"), refused_url())


def test_every_task_of_the_example_dag_has_its_start_datasets_or_the_reason_why(env: Dict[str, str]) -> None:
    result = lineage(env, "--dags-folder", DAGS, "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    tasks = by_task(result)
    example = {task: found for (dag, task), found in tasks.items() if dag == "alvin_example"}
    assert sorted(example) == sorted(EXPECTED)
    for task, (operator, inputs, outputs) in EXPECTED.items():
        found = example[task]
        assert (found["operator"], pairs(found["inputs"]), pairs(found["outputs"])) == (
            operator,
            inputs,
            outputs,
        )
        if inputs or outputs:
            assert found["reason"] is None, found
        else:
            assert found["reason"].startswith(NO_EXTRACTOR), found
    # the other DAGs of the folder are listed too, each task once
    assert {dag for dag, _ in tasks} >= {"alvin_example", "alvin_edge_cases"}


def test_fail_under_exits_1_below_the_share_of_tasks_with_lineage(env: Dict[str, str]) -> None:
    args = ("--dags-folder", DAGS, "--dag-id", "alvin_example")
    passed = lineage(env, *args, "--fail-under", "50")  # 3 of 6 tasks have lineage
    assert passed.returncode == 0, passed.stdout + passed.stderr[-3000:]
    assert "3 of 6 task(s) have lineage (50%)" in passed.stdout
    assert "alvin_example.load (SqlCarrier)" in passed.stdout
    assert f"    in   {POSTGRES}  warehouse.staging.orders" in passed.stdout
    failed = lineage(env, *args, "--fail-under", "51")
    assert failed.returncode == 1, failed.stdout + failed.stderr[-3000:]
    assert "under --fail-under 51%" in failed.stderr


def test_a_connection_this_machine_cannot_read_is_the_reason(env: Dict[str, str]) -> None:
    env = {k: v for k, v in env.items() if k != f"AIRFLOW_CONN_{EXAMPLE_CONN_ID.upper()}"}
    tasks = by_task(lineage(env, "--dags-folder", DAGS, "--dag-id", "alvin_example", "--format", "json"))
    load = tasks[("alvin_example", "load")]
    assert load["inputs"] == [] and load["outputs"] == []
    assert f"connection {EXAMPLE_CONN_ID!r} could not be read" in load["reason"], load


def test_templated_sql_is_rendered_for_a_sample_date_before_its_tables_are_named(
    env: Dict[str, str], tmp_path: Path
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "alvin_templated.py").write_text(TEMPLATED_DAG)
    result = lineage(env, "--dags-folder", str(dags), "--format", "json")
    assert result.returncode == 0, result.stderr[-3000:]
    daily = by_task(result)[("alvin_templated", "daily")]
    assert pairs(daily["inputs"]) == [(SQLITE, "raw_orders")]
    assert pairs(daily["outputs"]) == [(SQLITE, "orders_20260101")]
