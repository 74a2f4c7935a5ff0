"""Airflow 1.10's contrib Snowflake operator: the query ids its cursors ran reach the try's COMPLETE and FAIL.

Real Airflow 1.10 code (the contrib ``SnowflakeOperator`` and ``SnowflakeHook``, ``DbApiHook.run``)
through the legacy adapter's real wrappers, against a stand-in for ``snowflake.connector``
(tests/support/fake_snowflake): Snowflake cannot run here, and the real connector would connect to
``<account>.snowflakecomputing.com``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from alvin_integration.producers.airflow.adapters import legacy
from tests.support.recording import RecordingEmitter, fake_ti
from tests.support.skips import needs_contrib_snowflake_hook

pytestmark = needs_contrib_snowflake_hook
FAKE_CONNECTOR = str(Path(__file__).parent.parent / "support" / "fake_snowflake")
PASSWORD = "sf-Secret-7c1e"
CONNECTION = (
    f"snowflake://loader:{PASSWORD}@localhost/PUBLIC?account=xy12345&database=ANALYTICS&warehouse=LOADING"
)


@pytest.fixture
def operator_class(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """1.10's contrib ``SnowflakeOperator``, its hook importing the stand-in connector."""
    monkeypatch.syspath_prepend(FAKE_CONNECTOR)
    monkeypatch.setenv("AIRFLOW_CONN_ALVIN_SNOWFLAKE", CONNECTION)
    import snowflake.connector
    from airflow.contrib.operators.snowflake_operator import SnowflakeOperator

    assert str(snowflake.connector.__file__).startswith(FAKE_CONNECTOR), "the real connector is installed"
    yield SnowflakeOperator
    # later tests of the session must not find the stand-in, nor modules that imported it
    stand_in = [n for n in sys.modules if n.split(".")[0] == "snowflake"]
    for name in stand_in + [n for n in sys.modules if n.startswith("airflow.contrib.") and "snowflake" in n]:
        del sys.modules[name]


def _run_try(operator_class: Any, try_number: int, sql: List[str]) -> None:
    """START in the try's own process, ``execute``, then the COMPLETE or FAIL Airflow 1.10 reports.

    Each call takes a try number of its own: the adapter reports a try's event once per process.
    """
    task = operator_class(task_id="load", snowflake_conn_id="alvin_snowflake", sql=sql)
    ti = fake_ti("running", try_number, task=task)
    legacy._after_render_templates(None, ti)
    try:
        task.execute(context={})
    except Exception as error:
        ti.state = "failed"
        legacy.after_handle_failure(None, ti, error)
    else:
        legacy.report_success_from_backend(task, [], [], {"ti": ti})


def test_the_query_ids_a_try_ran_reach_its_complete(recorded: RecordingEmitter, operator_class: Any) -> None:
    statements = ["INSERT INTO marts.orders SELECT * FROM raw.orders", "DELETE FROM raw.orders"]
    _run_try(operator_class, 11, statements)
    start, complete = recorded.events
    assert "query_ids" not in start["run"]["facets"].get("alvin", {})
    ids = complete["run"]["facets"]["alvin"]["query_ids"]
    assert len(ids) == 2 and all(query_id.startswith("01fake00-") for query_id in ids)
    query = complete["run"]["facets"]["externalQuery"]
    assert (query["externalQueryId"], query["source"]) == (ids[0], "snowflake")


def test_a_failed_try_reports_the_id_of_the_statement_snowflake_refused(
    recorded: RecordingEmitter, operator_class: Any
) -> None:
    _run_try(operator_class, 12, ["SELECT 1"])
    _run_try(operator_class, 13, ["SELECT 2", "SELECT FAIL_HERE"])
    complete, fail = recorded.events[1], recorded.events[3]
    assert fail["eventType"] == "FAIL"
    first_try, second_try = complete["run"]["facets"]["alvin"], fail["run"]["facets"]["alvin"]
    assert len(second_try["query_ids"]) == 2  # this try's own, not the one before it
    assert set(second_try["query_ids"]).isdisjoint(first_try["query_ids"])
    assert second_try["query_ids"][1] in fail["run"]["facets"]["errorMessage"]["message"]


def test_the_hook_runs_as_before_and_no_password_reaches_an_event(
    recorded: RecordingEmitter, operator_class: Any
) -> None:
    import snowflake.connector

    _run_try(operator_class, 14, ["SELECT 3"])
    assert snowflake.connector.connected[-1]["password"] == PASSWORD  # the hook's own parameters
    assert PASSWORD not in json.dumps(recorded.events)


def test_a_broken_watch_costs_the_try_nothing_but_its_query_ids(
    recorded: RecordingEmitter, operator_class: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("our bug")

    monkeypatch.setattr(legacy, "watch_snowflake_queries", broken)
    _run_try(operator_class, 15, ["SELECT 4"])
    assert [event["eventType"] for event in recorded.events] == ["START", "COMPLETE"]
