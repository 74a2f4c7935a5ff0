"""Shared fixtures: real servers on loopback, a spool directory, a clean emitter per test."""

from __future__ import annotations

from typing import Iterator

import pytest

from alvin_integration.emitter import reset_emitter
from alvin_integration.logs import forget_said
from alvin_integration.mock_backend.server import MockAlvinServer, make_server, start_in_thread
from tests.support import home_guard
from tests.support.fault_server import FaultServer


def pytest_sessionstart(session: pytest.Session) -> None:
    """Record the user's Airflow homes, which no test may touch."""
    session.config._alvin_homes = home_guard.snapshot(home_guard.guarded_homes())


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the session if a test created or changed a file in a user's Airflow home."""
    before = getattr(session.config, "_alvin_homes", None)
    if before is None:
        return
    changed = home_guard.changes(before, home_guard.snapshot(home_guard.guarded_homes()))
    if changed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("FAILED home guard: " + home_guard.report(changed), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_process_state() -> Iterator[None]:
    forget_said()
    reset_emitter()
    yield
    reset_emitter()


@pytest.fixture
def mock_backend() -> Iterator[MockAlvinServer]:
    """The package's own mock Alvin API, serving on a free loopback port."""
    server = make_server()
    start_in_thread(server)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    """A loopback server that answers as scripted."""
    server = FaultServer()
    yield server
    server.close()


@pytest.fixture
def spool_dir(tmp_path) -> str:
    """An empty spool directory."""
    path = tmp_path / "spool"
    return str(path)
