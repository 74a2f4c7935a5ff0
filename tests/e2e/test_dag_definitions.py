"""DAG definitions reach ``/api/v1/metadata`` from ``alvin-integration sync-metadata``, once per structure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict

from tests.support.airflow_home import EXPECTED_STATES, ROW, fresh_home, row_env
from tests.support.processes import MockBackendProcess


def sync_metadata(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The installed ``alvin-integration sync-metadata``, run from the Airflow home (not the source tree)."""
    command = os.path.join(os.path.dirname(sys.executable), "alvin-integration")
    return subprocess.run(
        [command, "sync-metadata", *args],
        env=env,
        cwd=env["AIRFLOW_HOME"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_sync_metadata_sends_each_definition_once(migrated_home: str, tmp_path: Path) -> None:
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        env = row_env(fresh_home(migrated_home, tmp_path / "home"), backend.url)
        first = sync_metadata(env)
        assert first.returncode == 0, first.stdout + first.stderr[-3000:]
        assert "2 DAG(s): 2 definition(s) spooled in 1 page(s), 0 unchanged" in first.stdout
        again = sync_metadata(env)
        assert again.returncode == 0, again.stdout + again.stderr[-3000:]
        assert "0 definition(s) spooled in 0 page(s), 2 unchanged" in again.stdout
        payloads = backend.get("/api/v1/metadata")
        assert len(payloads) == 1
        assert payloads[0]["alvin_platform_id"] == "testplatform"
        assert payloads[0]["facets"]["airflow_version"].startswith(str(ROW["airflow"]))
        entities = {e["name"]: e for e in payloads[0]["entities"]}
        assert set(entities) == {"alvin_example", "alvin_edge_cases"}
        example = entities["alvin_example"]
        assert example["schedule"] == "0 0 * * *"
        tasks = {t["task_id"]: t for t in example["tasks"]}
        assert sorted(tasks) == sorted(EXPECTED_STATES)
        assert tasks["extract"]["inputs"] == [{"namespace": "s3://alvin-example", "name": "raw/orders.csv"}]
        assert tasks["extract"]["outputs"] == [
            {"namespace": "s3://alvin-example", "name": "clean/orders.parquet"}
        ]
        assert tasks["flaky"]["upstream_task_ids"] == ["extract"]
        assert tasks["load"]["operator"] == "SqlCarrier" and tasks["load"]["job_name"] == "alvin_example.load"
        forced = sync_metadata(env, "--force")
        assert "2 definition(s) spooled" in forced.stdout
        assert len(backend.get("/api/v1/metadata")) == 1  # the same content: the receiver deduped it
    finally:
        backend.stop()
