"""What the core's lower modules need of the process is passed to them: the host's name, the verbosity."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import List

import pytest

from alvin_integration import __version__, guard, host
from alvin_integration import emitter as emitter_module
from alvin_integration.emitter import Emitter
from tests.support.events import settings_for, task_event
from tests.support.fault_server import FaultServer


def test_a_host_named_after_the_emitter_was_made_names_its_next_requests(
    fault_server: FaultServer, spool_dir: str, emitters: List[Emitter], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(host, "_token", "")
    emitter = Emitter(settings_for(fault_server.url, spool_dir))
    emitters.append(emitter)
    emitter.emit(task_event(1))
    assert emitter.flush(10)
    host.configure_host("airflow/9.9.9")  # as the producer does when it is imported late
    emitter.emit(task_event(2))
    assert emitter.flush(10)
    before, after = fault_server.requests
    assert before["headers"]["user-agent"] == f"alvin-integration/{__version__}"
    assert after["headers"]["user-agent"] == f"alvin-integration/{__version__} airflow/9.9.9"
    assert before["peer"] == after["peer"]  # naming the host drops no kept-alive connection


def _broken() -> None:
    raise ValueError("a bug of ours")


def test_a_guarded_failure_loads_no_settings_and_makes_no_emitter(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: List[object] = []
    monkeypatch.setattr(emitter_module, "load_settings", lambda *a, **k: loads.append(a) or None)
    assert guard.call_guarded("testing the guard", _broken, default="fine") == "fine"
    assert loads == [] and emitter_module._emitter is None


def test_verbose_settings_make_guarded_failures_log_their_stack(
    spool_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in list(os.environ):
        if name.startswith(("ALVIN_", "AIRFLOW__ALVIN__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    for name, value in {
        "ALVIN_URL": "http://127.0.0.1:9",
        "ALVIN_API_KEY": "k" * 20,
        "ALVIN_PLATFORM_ID": "testplatform",
        "ALVIN_SPOOL_DIR": spool_dir,
        "ALVIN_VERBOSE_LOG": "true",
    }.items():
        monkeypatch.setenv(name, value)
    assert emitter_module.get_emitter() is not None  # the front reads the settings, once
    caplog.set_level(logging.DEBUG, logger="alvin_integration")
    guard.call_guarded("testing the guard", _broken)
    guard.call_guarded("testing the guard", _broken)
    again = [r for r in caplog.records if "failed again" in r.getMessage()]
    assert len(again) == 1 and again[0].exc_info is not None
    emitter_module.reset_emitter()
    caplog.clear()
    guard.call_guarded("testing the guard", _broken)
    assert not [r for r in caplog.records if r.exc_info]  # forgotten with the emitter
