"""The command line as a user runs it: doctor and spool, in real processes."""

from __future__ import annotations

import pytest

from tests.support.fault_server import refused_url
from tests.support.processes import MockBackendProcess, alvin_env, python_process, run_cli


@pytest.fixture
def backend(tmp_path):  # type: ignore[no-untyped-def]
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


def test_doctor_reports_a_rejected_key(tmp_path, spool_dir: str) -> None:  # type: ignore[no-untyped-def]
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
