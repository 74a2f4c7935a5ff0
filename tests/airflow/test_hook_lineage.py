"""Hook lineage through real hooks (Airflow 2.10+, 3.x): what a Python task's hooks did is reported."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from alvin_integration.producers.airflow.extract import task_lineage
from alvin_integration.producers.airflow.extract.hook_lineage import hook_lineage, mark_start
from alvin_integration.producers.airflow.read import TaskTry
from tests.support.skips import needs_hook_lineage

pytestmark = needs_hook_lineage
CONN = "AIRFLOW_CONN_ALVIN_HOOK_TEST"


@pytest.fixture
def sqlite_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    hooks = pytest.importorskip("airflow.providers.sqlite.hooks.sqlite", reason="the SQLite provider")
    monkeypatch.chdir(tmp_path)  # the connection names a relative file, as the example DAG's does
    monkeypatch.setenv(CONN, "sqlite://hook_test.db")
    # the parse of a hook's SQL may take its full 1 s budget on a loaded machine: these tests are
    # about what is found, not how fast (benchmarks/bench_lineage.py measures that)
    monkeypatch.setattr(task_lineage, "END_WAIT", 60.0)
    task_lineage._sources.clear()
    yield hooks.SqliteHook(sqlite_conn_id="alvin_hook_test")
    task_lineage._sources.clear()


def collector() -> Any:
    from alvin_integration.producers.airflow.compat import hook_lineage_collector

    return hook_lineage_collector()


def test_our_plugin_turns_hook_lineage_collection_on() -> None:
    assert type(collector()).__name__ == "HookLineageCollector"  # not the NoOpCollector


def test_sql_a_hook_ran_names_its_tables_from_the_hooks_connection(sqlite_hook: Any) -> None:
    pytest.importorskip(
        "airflow.providers.common.sql.hooks.lineage",
        reason="common-sql reports SQL to hook lineage from 1.2x",
    )
    mark_start("try-1")
    sqlite_hook.run(
        [
            "CREATE TABLE IF NOT EXISTS src (id INTEGER, amount REAL)",
            "CREATE TABLE IF NOT EXISTS dst AS SELECT id, amount FROM src",
        ]
    )
    found = task_lineage.lineage_of(
        TaskTry("dag", "python_task", "run", 1, "success", task=object()), at_end=True
    )
    assert found.run_facets.get("extractionError") is None
    assert ("sqlite://hook_test.db", "src") in [(d.namespace, d.name) for d in found.inputs]
    assert ("sqlite://hook_test.db", "dst") in [(d.namespace, d.name) for d in found.outputs]
    assert os.path.exists("hook_test.db")


def test_datasets_a_hook_recorded_are_reported_once_and_only_for_their_try(sqlite_hook: Any) -> None:
    compat = pytest.importorskip("airflow.providers.common.compat.lineage.hook", reason="common-compat")
    hook_collector = compat.get_hook_lineage_collector()
    hook_collector.add_input_asset(context=sqlite_hook, uri="s3://bucket/before.csv")
    mark_start("try-2")
    hook_collector.add_input_asset(context=sqlite_hook, uri="s3://bucket/in.csv")
    hook_collector.add_output_asset(context=sqlite_hook, uri="gs://bucket/out.parquet")
    found = hook_lineage("try-2")
    assert [(d.namespace, d.name) for d in found.inputs] == [("s3://bucket", "in.csv")]
    assert [(d.namespace, d.name) for d in found.outputs] == [("gs://bucket", "out.parquet")]
