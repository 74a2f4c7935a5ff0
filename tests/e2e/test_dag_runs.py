"""Real `airflow dags test` processes reporting to a real mock-backend process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.support.airflow_home import airflow_env, dags_test, init_db, task_lines, task_states
from tests.support.fault_server import refused_url
from tests.support.processes import REPO, MockBackendProcess, alvin_env, run_cli
from tests.support.schema import assert_valid

ROW = os.environ.get(
    "ALVIN_MATRIX_ROW", "af3" if __import__("airflow").__version__.startswith("3") else "af2"
)
GOLDEN = Path(REPO) / "compat" / "expected" / f"alvin_example__{ROW}.json"
EXPECTED_STATES = {
    "extract": "success",
    "load": "success",
    "flaky": "success",
    "fail": "failed",
    "skip": "skipped",
}


@pytest.fixture(scope="module")
def migrated_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    home = str(tmp_path_factory.mktemp("airflow-home"))
    init_db(airflow_env(home, refused_url()))
    return home


@pytest.fixture
def home(migrated_home: str, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the migrated home (its own spool), so tests do not see each other's runs."""
    import shutil

    target = str(tmp_path / "home")
    shutil.copytree(migrated_home, target)
    yield target


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[MockBackendProcess]:
    server = MockBackendProcess(str(tmp_path / "alvin.db"))
    yield server
    server.stop()


def check_golden(lines: list) -> None:  # type: ignore[type-arg]
    if os.environ.get("ALVIN_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(lines, indent=1) + "\n")
    assert GOLDEN.exists(), f"no golden file {GOLDEN}; run once with ALVIN_UPDATE_GOLDEN=1 and review it"
    assert lines == json.loads(GOLDEN.read_text())


def test_every_task_try_is_reported_as_the_golden_file_says(home: str, backend: MockBackendProcess) -> None:
    env = airflow_env(home, backend.url)
    result = dags_test(env)
    output = result.stdout + result.stderr
    assert "this has no impact" not in output, output[-3000:]  # none of our guards fired
    events = backend.get("/api/v1/events")
    for item in events:
        assert_valid(item["event"])
    check_golden(task_lines(events))
    assert task_states(env) == EXPECTED_STATES


def test_bad_settings_leave_every_task_as_it_was(home: str) -> None:
    env = airflow_env(home, "not-a-url")
    del env["ALVIN_API_KEY"]
    result = dags_test(env)
    output = result.stdout + result.stderr
    assert task_states(env) == EXPECTED_STATES
    lines = [line for line in output.splitlines() if "alvin-integration is not reporting" in line]
    assert lines and all("ALVIN_URL" in line and "ALVIN_API_KEY is not set" in line for line in lines)
    assert "alvin_integration/" not in output  # no stack frame of ours in any log


def test_events_wait_out_an_api_outage_and_a_later_process_delivers_them(
    home: str, backend: MockBackendProcess
) -> None:
    down: Dict[str, str] = airflow_env(home, refused_url(), ALVIN_FLUSH_TIMEOUT="1")
    dags_test(down)
    assert task_states(down) == EXPECTED_STATES  # every task ended in its normal state
    expected = len(json.loads(GOLDEN.read_text()))
    result = run_cli(alvin_env(backend.url, os.path.join(home, "spool")), "spool", "flush")
    assert result.returncode == 0, result.stderr
    assert len(task_lines(backend.get("/api/v1/events"))) == expected
