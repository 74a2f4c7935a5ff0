"""What the core's lower modules need of the process is passed to them: the host's name, the verbosity."""

from __future__ import annotations

from typing import List

import pytest

from alvin_integration import __version__, host
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
    assert before["headers"]["user-agent"] == f"alvin-integration/{__version__}"  # type: ignore[index]
    assert after["headers"]["user-agent"] == f"alvin-integration/{__version__} airflow/9.9.9"  # type: ignore[index]
    assert before["peer"] == after["peer"]  # naming the host drops no kept-alive connection
