"""Cloud Composer: settings from airflow.cfg overrides, Composer facets, and the OpenLineage
provider (which Composer preinstalls for its Dataplex lineage) reporting alongside, untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.airflow_home import EXPECTED_STATES, fresh_home, row_env, run_example_dag, task_states
from tests.support.events import API_KEY
from tests.support.processes import MockBackendProcess, run_cli
from tests.support.skips import composer_row_only

pytestmark = composer_row_only


def test_composer_reports_with_its_facets_beside_openlineage(migrated_home: str, tmp_path: Path) -> None:
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        home = fresh_home(migrated_home, tmp_path / "home")
        env = row_env(home, backend.url)
        # Composer forbids AIRFLOW__* variables: our settings come from config overrides (airflow.cfg).
        for name in [
            n for n in env if n in ("ALVIN_URL", "ALVIN_API_KEY", "ALVIN_PLATFORM_ID", "ALVIN_SPOOL_DIR")
        ]:
            del env[name]
        (tmp_path / "tmp").mkdir()
        env.update(COMPOSER_ENVIRONMENT="alvin-test", COMPOSER_VERSION="2.9.7", TMPDIR=str(tmp_path / "tmp"))
        lineage_file = tmp_path / "openlineage.jsonl"
        with open(Path(home) / "airflow.cfg", "a") as cfg:
            cfg.write(f"\n[alvin]\nurl = {backend.url}\napi_key = {API_KEY}\nplatform_id = composerdev\n")
        transport = {"type": "file", "log_file_path": str(lineage_file), "append": True}
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps(transport)  # airflow.cfg has the section

        result = run_example_dag(env, "task processes")  # a backfill: DAG-run events too
        assert task_states(env) == EXPECTED_STATES
        assert "this has no impact" not in result.stdout + result.stderr
        assert run_cli(env, "spool", "flush").returncode == 0

        events = [e["event"] for e in backend.get("/api/v1/events")]
        tasks = [e for e in events if e["job"]["name"].startswith("alvin_example.")]
        assert {e["job"]["name"] for e in tasks} == {f"alvin_example.{t}" for t in EXPECTED_STATES}
        for event in tasks:
            assert event["job"]["namespace"] == "composerdev"
            job_facet = event["job"]["facets"]["gcp_composer_job"]
            assert (job_facet["environmentName"], job_facet["composerVersion"]) == ("alvin-test", "2.9.7")
            assert event["run"]["facets"]["gcp_composer_run"]["dagRunId"]
        dag_runs = [e for e in events if e["job"]["name"] == "alvin_example"]
        assert [e["eventType"] for e in dag_runs] == ["START", "FAIL"]
        for event in dag_runs:
            job_facet = event["job"]["facets"]["gcp_composer_job"]
            assert (job_facet["environmentName"], job_facet["dagId"]) == ("alvin-test", "alvin_example")
            assert "taskId" not in job_facet
            run_id = event["run"]["facets"]["alvin"]["run_id"]
            assert event["run"]["facets"]["gcp_composer_run"]["dagRunId"] == run_id
        schema = pytest.importorskip("tests.support.schema")
        for event in events:
            schema.assert_valid(event)
        # The OpenLineage provider reported the same tasks through its own transport.
        theirs = [json.loads(line) for line in lineage_file.read_text().splitlines() if line.strip()]
        assert {e["job"]["name"] for e in theirs} >= {"alvin_example.extract", "alvin_example.fail"}
        # Where the provider (2.8.0 here) names no table for the SQL tasks, we name them without a query.
        transform = [e for e in tasks if e["job"]["name"] == "alvin_example.transform"]
        ours = next(e for e in transform if e["eventType"] == "START")
        assert ("sqlite://alvin_example.db", "raw_orders") in [
            (d["namespace"], d["name"]) for d in ours["inputs"]
        ]
    finally:
        backend.stop()
