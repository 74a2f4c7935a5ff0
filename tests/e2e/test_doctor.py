"""``alvin-integration doctor`` inside this row's Airflow, configured as the row's users configure it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_dag_runs import fresh_home, migrated_home, row_env  # noqa: F401
from tests.support.processes import MockBackendProcess


def test_doctor_passes_where_the_lineage_backend_is_configured(migrated_home: str, tmp_path: Path) -> None:  # noqa: F811
    # On 1.10 and 2.0-2.2 importing Airflow imports the configured backend, ours, which once made
    # the doctor's own import go round in a circle.
    backend = MockBackendProcess(str(tmp_path / "alvin.db"))
    try:
        env = row_env(fresh_home(migrated_home, tmp_path / "home"), backend.url)
        result = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "alvin-integration"), "doctor"],
            env=env,
            cwd=env["AIRFLOW_HOME"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        backend.stop()
    lines = {line.split()[1]: line for line in result.stdout.splitlines() if line[:4] in ("OK  ", "FAIL")}
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert lines["airflow"].startswith("OK") and lines["backend"].startswith("OK"), result.stdout
