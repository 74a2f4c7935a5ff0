"""``alvin-integration doctor`` inside this row's Airflow, configured as the row's users configure it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from alvin_integration.producers.airflow import version_compat
from tests.support.airflow_home import fresh_home, row_env
from tests.support.processes import MockBackendProcess


def doctor(
    migrated_home: str, tmp_path: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``alvin-integration doctor`` as a real process in a fresh home of this row, the API a mock."""
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        env = row_env(fresh_home(migrated_home, tmp_path / "home"), backend.url, **settings)
        return subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "alvin-integration"), "doctor", *args],
            env=env,
            cwd=env["AIRFLOW_HOME"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        backend.stop()


def test_doctor_passes_where_the_lineage_backend_is_configured(migrated_home: str, tmp_path: Path) -> None:
    # On 1.10 and 2.0-2.2 importing Airflow imports the configured backend, ours, which once made
    # the doctor's own import go round in a circle.
    result = doctor(migrated_home, tmp_path)
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line[:4] in ("OK  ", "FAIL")}
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert lines["airflow"].startswith("OK") and lines["backend"].startswith("OK"), result.stdout
    # what this version cannot report is said, not left silent
    coverage = [line for line in result.stdout.splitlines() if line.startswith("WARN coverage")]
    if version_compat.NEEDS_LINEAGE_BACKEND:
        assert not coverage, result.stdout
    elif not version_compat.AIRFLOW_V_2_5_PLUS:
        assert any("no DAG-run events" in line for line in coverage), result.stdout
    else:
        assert any("`airflow dags test`" in line for line in coverage), result.stdout


def test_doctor_counts_what_the_reporting_policy_keeps_of_a_dags_folder(
    migrated_home: str, tmp_path: Path
) -> None:
    from tests.support.airflow_home import DAGS

    result = doctor(
        migrated_home,
        tmp_path,
        "--dags-folder",
        DAGS,
        ALVIN_DAGS="*,!alvin_edge_*,!alvin_example.flaky,no_such_dag_*,bad pattern",
        ALVIN_SKIP_OPERATORS="SqliteQuery",
        ALVIN_SEND_SQL="false",
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    policy = [line for line in result.stdout.splitlines() if line.split()[1:2] == ["policy"]]
    assert (
        policy[0].startswith("OK") and "DAGs *,!alvin_edge_*,!alvin_example.flaky,no_such_dag_*;" in policy[0]
    )
    assert "operators skipped: SqliteQuery; withheld from payloads: sql" in policy[0]
    assert any(line.startswith("WARN") and "'bad pattern' ignored" in line for line in policy), policy
    assert any(line.startswith("WARN") and "'no_such_dag_*' matches no DAG" in line for line in policy), (
        policy
    )
    counts = next(line for line in policy if "DAG(s) and" in line)
    kept, left = (
        re.findall(r"(\d+) DAG\(s\) and (\d+) task\(s\)", part)[0] for part in counts.split("reported,")
    )
    # the edge-case DAGs are left out, and of the example DAG its flaky task and its SqliteQuery tasks
    assert int(kept[0]) >= 1 and int(left[0]) >= 1 and int(left[1]) >= 2, counts
