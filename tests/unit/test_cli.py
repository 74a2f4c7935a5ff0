"""The command line as a user runs it: doctor and spool, in real processes."""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import pytest

from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess, alvin_env, python_process, run_cli


@pytest.fixture
def backend(tmp_path):
    server = MockBackendProcess(str(tmp_path / "alvin.db"))
    yield server
    server.stop()


def test_doctor_passes_against_a_working_api(backend: MockBackendProcess, spool_dir: str) -> None:
    result = run_cli(alvin_env(backend.url, spool_dir), "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for check in ("settings", "dns", "tcp", "http", "api_key", "spool"):
        assert any(line.startswith("OK") and f" {check} " in line for line in lines), check
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "mode"),
    [
        ({}, "shared disk: a try's end waits only while the API answers fast"),
        ({"AIRFLOW_IS_K8S_EXECUTOR_POD": "True"}, "ephemeral worker: waits for delivery at a try's end"),
        ({"ALVIN_EPHEMERAL": "true"}, "ephemeral worker: waits for delivery at a try's end"),
    ],
)
def test_doctor_names_how_a_try_waits_for_delivery(
    backend: MockBackendProcess, spool_dir: str, extra: Dict[str, str], mode: str
) -> None:
    result = run_cli(alvin_env(backend.url, spool_dir, **extra), "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if " delivery " in line)
    assert line.startswith("OK") and mode in line, line


def test_doctor_names_a_missing_setting(spool_dir: str) -> None:
    env = alvin_env("x", spool_dir)
    del env["ALVIN_URL"]
    result = run_cli(env, "doctor")
    assert result.returncode == 1
    assert "FAIL settings" in result.stdout and "ALVIN_URL is not set" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_explains_a_refused_connection(spool_dir: str) -> None:
    result = run_cli(alvin_env(refused_url(), spool_dir), "doctor", "--timeout", "2")
    assert result.returncode == 1
    assert "FAIL tcp" in result.stdout and "fix: is the Alvin API running" in result.stdout


def test_doctor_reports_a_rejected_key(tmp_path, spool_dir: str) -> None:
    from alvin_integration.mock_backend.server import make_server, start_in_thread

    server = make_server(api_key="the-only-good-key")
    start_in_thread(server)
    try:
        result = run_cli(alvin_env(server.url, spool_dir), "doctor")
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 1 and " api_key " in failed[0] and "API key rejected (HTTP 403)" in failed[0]
    assert "fix: create a key in the Alvin UI" in result.stdout


def test_spool_status_and_flush(backend: MockBackendProcess, spool_dir: str) -> None:
    offline = alvin_env(refused_url(), spool_dir)
    filler = python_process(
        """
        import os
        from alvin_integration.emitter import get_emitter
        from tests.support.events import task_event
        for i in range(12):
            get_emitter().emit(task_event(i))
        os._exit(0)
        """,
        offline,
    )
    filler.communicate(timeout=60)
    status = run_cli(offline, "spool", "status")
    assert status.returncode == 0 and "waiting events: 12" in status.stdout
    failed = run_cli(offline, "spool", "flush", "--timeout", "3")
    assert failed.returncode == 1 and "could not be emptied" in failed.stderr
    assert "API health (shared by this machine's processes): down for" in failed.stdout
    online = alvin_env(backend.url, spool_dir)
    flushed = run_cli(online, "spool", "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "delivered 12 event(s)" in flushed.stdout and "waiting events: 0" in flushed.stdout
    assert "API health (shared by this machine's processes): up, a delivery took" in flushed.stdout
    assert len(backend.keys()) == 12


def test_doctor_never_prints_a_password_from_the_url(backend: MockBackendProcess, spool_dir: str) -> None:
    url = backend.url.replace("http://", "http://user:url-secret-pw-77@")
    result = run_cli(alvin_env(url, spool_dir), "doctor")
    assert "url-secret-pw-77" not in result.stdout + result.stderr
    assert "user:***@" in result.stdout


def composer_env(url: str, tmp_path: Path) -> Dict[str, str]:
    """A Cloud Composer worker's environment: $AIRFLOW_HOME on the GCS mount, no ALVIN_SPOOL_DIR."""
    env = alvin_env(url, str(tmp_path / "unused"))
    del env["ALVIN_SPOOL_DIR"], env["AIRFLOW_CONFIG"]
    (tmp_path / "tmp").mkdir()
    env.update(
        COMPOSER_ENVIRONMENT="my-env", AIRFLOW_HOME=str(tmp_path / "gcs"), TMPDIR=str(tmp_path / "tmp")
    )
    return env


def test_on_composer_the_cli_reads_the_spool_the_tasks_write(
    backend: MockBackendProcess, tmp_path: Path
) -> None:
    offline = composer_env(refused_url(), tmp_path)
    task = python_process(  # as a task process spools when the API is down
        """
        import os
        from alvin_integration.emitter import get_emitter
        from tests.support.events import task_event
        get_emitter().emit(task_event(0))
        os._exit(0)
        """,
        offline,
    )
    task.communicate(timeout=60)
    composer_spool = str(tmp_path / "tmp" / "alvin" / "spool")
    # The CLI as a user runs it, and with a check that it imported no Airflow to find the directory.
    status = python_process(
        """
        import sys
        from alvin_integration.cli import main
        code = main(["spool", "status"])
        assert not [m for m in sys.modules if m == "airflow" or m.startswith("airflow.")], "Airflow imported"
        sys.exit(code)
        """,
        offline,
    )
    out, err = status.communicate(timeout=60)
    assert status.returncode == 0, err
    assert f"spool directory: {composer_spool} (Cloud Composer: a local directory" in out
    assert "waiting events: 1 in" in out
    doctor = run_cli(offline, "doctor", "--timeout", "2")
    assert f"OK   spool     spool directory: {composer_spool} (Cloud Composer" in doctor.stdout
    flushed = run_cli(dict(offline, ALVIN_URL=backend.url), "spool", "flush")
    assert flushed.returncode == 0, flushed.stderr
    assert "delivered 1 event(s)" in flushed.stdout and len(backend.keys()) == 1
    assert not (tmp_path / "gcs" / "alvin").exists()  # nothing on the GCS FUSE mount
