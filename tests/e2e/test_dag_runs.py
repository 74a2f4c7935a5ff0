"""Real airflow CLI processes reporting to a real mock-backend process, on this row's Airflow."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import (
    EXPECTED_STATES,
    GOLDEN,
    GOLDEN_EVENTS,
    ROW,
    RUN_DATE,
    fresh_home,
    row_env,
    run_example_dag,
    task_lines,
    task_states,
)
from tests.support.fault_server import FaultServer, refused_url
from tests.support.golden import assert_golden, masked_events
from tests.support.processes import MockBackendProcess, alvin_env, run_cli
from tests.support.skips import full_rows_only, needs_dag_run_events, runs_dags_test, runs_task_processes

# A traceback line in our code; the example DAG (whose failure is on purpose) ships in the package.
OUR_FRAME = re.compile(r'File "[^"]*alvin_integration/(?!examples/)')


# One run of the example DAG: (events received, task states, output, metadata payloads received).
# ... and the requests Airflow's own processes made (before `spool flush` sent what was left).
Reported = Tuple[List[Any], Dict[str, str], str, List[Any], List[Any]]


@pytest.fixture(scope="module")
def reported(migrated_home: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reported]:
    """One run of the example DAG with the API up."""
    work = tmp_path_factory.mktemp("reported")
    backend = MockBackendProcess(str(work / "alvin.db"))
    try:
        home = fresh_home(migrated_home, work / "home")
        env = row_env(home, backend.url)
        result = run_example_dag(env, ROW["run"])
        from_airflow = backend.get("/api/v1/deliveries")
        # Processes that ended before their sender ran (DAG-run events) leave events spooled.
        run_cli(alvin_env(backend.url, os.path.join(home, "spool")), "spool", "flush")
        output = result.stdout + result.stderr
        events, metadata = backend.get("/api/v1/events"), backend.get("/api/v1/metadata")
        yield events, task_states(env), output, metadata, from_airflow
    finally:
        backend.stop()


def test_every_task_try_is_reported_as_the_golden_file_says(
    reported: Reported,
) -> None:
    events, states, output, _, _ = reported
    assert_golden(task_lines(events), GOLDEN)
    assert states == EXPECTED_STATES
    assert "this has no impact" not in output, output[-3000:]  # none of our guards fired


def test_every_event_says_what_the_golden_file_says_value_by_value(reported: Reported) -> None:
    """Every field of every task event (facets included), only times, versions and traces masked."""
    assert_golden(masked_events([item["event"] for item in reported[0]]), GOLDEN_EVENTS)


def test_every_request_from_airflow_names_us_and_this_airflow(reported: Reported) -> None:
    from alvin_integration import __version__

    agents = {delivery["user_agent"] for delivery in reported[4]}
    assert agents == {f"alvin-integration/{__version__} airflow/{ROW['airflow']}"}


@runs_dags_test
def test_a_dags_test_delivers_its_task_events_before_it_exits(reported: Reported) -> None:
    """Its tries' ends do not wait (the process goes on); its normal exit waits, bounded, once."""
    events, _, _, _, from_airflow = reported
    delivered = {delivery["idempotency_key"] for delivery in from_airflow if delivery["status"] < 300}
    task_events = [item for item in events if "task_id" in item["event"]["run"]["facets"].get("alvin", {})]
    assert task_events
    assert [item["idempotency_key"] for item in task_events if item["idempotency_key"] not in delivered] == []


def test_events_say_what_happened_not_only_in_shape(reported: Reported) -> None:
    """Values, not a projection: identity, parent links, errors, SQL, nominal time, datasets."""
    from alvin_integration.model import dag_run_run_id, task_run_id

    events = [item["event"] for item in reported[0]]
    task_events = [e for e in events if "task_id" in e["run"]["facets"].get("alvin", {})]
    dag_runs = {e["run"]["runId"] for e in events if e["job"]["name"] == "alvin_example"}
    for event in task_events:
        details = event["run"]["facets"]["alvin"]
        assert event["job"] == {
            **event["job"],
            "namespace": "testplatform",
            "name": f"alvin_example.{details['task_id']}",
        }
        assert event["run"]["runId"] == task_run_id(
            "alvin_example", details["task_id"], details["run_id"], details["try_number"]
        )
        parent = event["run"]["facets"]["parent"]
        assert parent["job"] == {"namespace": "testplatform", "name": "alvin_example"}
        assert parent["run"]["runId"] == dag_run_run_id("alvin_example", details["run_id"])
        assert parent["run"]["runId"] != event["run"]["runId"]
        if dag_runs:  # the DAG run's own events carry the id its tasks point at
            assert parent["run"]["runId"] in dag_runs
        assert details["dag_id"] == "alvin_example" and details["platform_id"] == "testplatform"

    # one DAG run, one data interval: a scheduled run's starts at RUN_DATE, a manual run's
    # (`dags test`) ends there
    nominal = {e["run"]["facets"]["nominalTime"]["nominalStartTime"][:10] for e in task_events}
    assert len(nominal) == 1 and nominal <= {RUN_DATE, "2026-10-31"}, nominal

    def one(task: str, kind: str, try_number: int = 1) -> Dict[str, Any]:
        return next(
            e
            for e in task_events
            if e["job"]["name"] == f"alvin_example.{task}"
            and e["eventType"] == kind
            and e["run"]["facets"]["alvin"]["try_number"] == try_number
        )

    failure = one("fail", "FAIL")["run"]["facets"]["errorMessage"]
    assert failure["message"] == "ValueError: this task fails on purpose"
    assert (
        "this task fails on purpose" in failure["stackTrace"] and failure["programmingLanguage"] == "python"
    )
    retry = one("flaky", "FAIL")["run"]["facets"]
    assert retry["alvin"]["state"] == "up_for_retry"
    assert retry["errorMessage"]["message"] == "RuntimeError: first try fails on purpose"
    assert one("flaky", "COMPLETE", 2)["run"]["facets"]["alvin"]["state"] == "success"
    sql = "INSERT INTO analytics.orders SELECT * FROM staging.orders"
    assert one("load", "START")["job"]["facets"]["sql"]["query"] == sql
    extract = one("extract", "COMPLETE")
    assert [(d["namespace"], d["name"]) for d in extract["inputs"]] == [
        ("s3://alvin-example", "raw/orders.csv")
    ]
    assert [(d["namespace"], d["name"]) for d in extract["outputs"]] == [
        ("s3://alvin-example", "clean/orders.parquet")
    ]
    assert one("skip", "COMPLETE")["run"]["facets"]["alvin"]["state"] == "skipped"


def test_reported_events_validate_against_the_openlineage_schema(
    reported: Reported,
) -> None:
    schema = pytest.importorskip(
        "tests.support.schema",
        reason="this Airflow pins jsonschema 3, which cannot read the 2020-12 OpenLineage schemas; "
        "the same model is schema-tested in the unit and newer-Airflow environments",
    )
    events = reported[0]
    assert events
    for item in events:
        schema.assert_valid(item["event"])


@runs_task_processes
@needs_dag_run_events
def test_dag_runs_are_reported(reported: Reported) -> None:
    dag_events = [e["event"] for e in reported[0] if e["event"]["job"]["name"] == "alvin_example"]
    assert [e["eventType"] for e in dag_events] == ["START", "FAIL"]
    assert dag_events[-1]["run"]["facets"]["alvin"]["state"] == "failed"
    # The DAG run's start also sent the DAG's definition.
    definitions = [e for payload in reported[3] for e in payload["entities"]]
    assert [d["name"] for d in definitions] == ["alvin_example"]
    assert sorted(t["task_id"] for t in definitions[0]["tasks"]) == sorted(EXPECTED_STATES)


@full_rows_only
def test_bad_settings_leave_every_task_as_it_was(migrated_home: str, tmp_path: Path) -> None:
    home = fresh_home(migrated_home, tmp_path / "home")
    env = row_env(home, "not-a-url")
    del env["ALVIN_API_KEY"]
    result = run_example_dag(env, ROW["run"])
    assert task_states(env) == EXPECTED_STATES
    output = result.stdout + result.stderr
    logs = output + "".join(p.read_text(errors="replace") for p in Path(home).rglob("*.log"))
    lines = [line for line in logs.splitlines() if "alvin-integration is not reporting" in line]
    assert lines and all("ALVIN_URL" in line and "ALVIN_API_KEY is not set" in line for line in lines)
    assert not OUR_FRAME.search(logs)  # no stack frame of ours in any log


@full_rows_only
@pytest.mark.parametrize("outage", ["refusing", "hung"])
def test_events_wait_out_an_api_outage_and_a_later_process_delivers_them(
    migrated_home: str, tmp_path: Path, outage: str
) -> None:
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    hung = FaultServer(default="hang")  # accepts, reads the request, never answers
    try:
        home = fresh_home(migrated_home, tmp_path / "home")
        url = refused_url() if outage == "refusing" else hung.url
        down = row_env(home, url, ALVIN_FLUSH_TIMEOUT="1", ALVIN_HTTP_TIMEOUT="300")
        run_example_dag(down, ROW["run"])
        assert task_states(down) == EXPECTED_STATES  # every task ended in its normal state
        result = run_cli(alvin_env(backend.url, os.path.join(home, "spool")), "spool", "flush")
        assert result.returncode == 0, result.stderr
        assert len(task_lines(backend.get("/api/v1/events"))) == len(json.loads(GOLDEN.read_text()))
    finally:
        hung.close()
        backend.stop()


EDGE_TASKS = ("hostile", "huge_sql", "tâche_ünïcode", "sensor")


@full_rows_only
def test_hard_to_report_operators_run_as_usual(migrated_home: str, tmp_path: Path) -> None:
    # The baseline: the same DAG with the integration switched off. (Airflow 3.3 itself fails the
    # non-ASCII task when it pushes its XCom; what matters is that we change no result.)
    baseline_home = fresh_home(migrated_home, tmp_path / "baseline")
    baseline_env = row_env(baseline_home, refused_url(), ALVIN_DISABLED="true")
    run_example_dag(baseline_env, ROW["run"], dag_id="alvin_edge_cases")
    baseline = task_states(baseline_env, "alvin_edge_cases", EDGE_TASKS)
    assert baseline["hostile"] == baseline["huge_sql"] == "success"
    mapping = version_compat.AIRFLOW_V_2_3_PLUS  # dynamic task mapping
    mapped_ran = mapping and task_states(baseline_env, "alvin_edge_cases").get("mapped") == "success"
    # `dags test` of Airflow 3 leaves literal-mapped tasks unrunnable, with or without us: there the
    # ids of mapped tries are checked by tests/airflow/test_adapter_hooks.py; everywhere else they ran.
    assert mapped_ran or not mapping or version_compat.AIRFLOW_V_3_0_PLUS, "the mapped tasks did not run"

    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        home = fresh_home(migrated_home, tmp_path / "home")
        env = row_env(home, backend.url)
        result = run_example_dag(env, ROW["run"], dag_id="alvin_edge_cases")
        assert task_states(env, "alvin_edge_cases", EDGE_TASKS) == baseline
        run_cli(alvin_env(backend.url, os.path.join(home, "spool")), "spool", "flush")
        events = [e["event"] for e in backend.get("/api/v1/events")]
        ended = {e["job"]["name"] for e in events if e["eventType"] in ("COMPLETE", "FAIL")}
        ran = [task for task in EDGE_TASKS if baseline[task] in ("success", "failed")]
        assert {f"alvin_edge_cases.{task}" for task in ran} <= ended
        huge = next(e for e in events if e["job"]["name"] == "alvin_edge_cases.huge_sql")
        query = huge["job"]["facets"]["sql"]["query"]
        assert query.startswith("SELECT 'naïve café ☕'") and len(query) <= 100_100
        hostile = next(e for e in events if e["job"]["name"] == "alvin_edge_cases.hostile")
        assert "sql" not in hostile["job"]["facets"] and "conn_id" not in hostile["run"]["facets"]["alvin"]
        mapped = {
            (e["run"]["runId"], e["run"]["facets"]["alvin"].get("map_index"))
            for e in events
            if e["job"]["name"] == "alvin_edge_cases.mapped" and e["eventType"] == "COMPLETE"
        }
        if mapped_ran:
            assert {index for _, index in mapped} == {0, 1, 2} and len(mapped) == 3
        assert not OUR_FRAME.search(result.stdout + result.stderr)
    finally:
        backend.stop()
