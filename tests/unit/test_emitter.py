"""The emitter: emit is a local append, delivery happens behind the task's back, flush is bounded."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from alvin_integration import emitter as emitter_module
from alvin_integration import sender as sender_module
from alvin_integration.circuit import CircuitBreaker
from alvin_integration.client import AlvinClient
from alvin_integration.emitter import Emitter
from alvin_integration.flush_wait import FLUSH_FLOOR_SECONDS
from alvin_integration.mock_backend.server import MockAlvinServer, make_server, start_in_thread
from alvin_integration.model import COMPLETE, START
from alvin_integration.redact import redact
from tests.support.emitters import FAST, make_emitter
from tests.support.events import API_KEY, settings_for, task_event
from tests.support.fault_server import FaultServer, refused_url
from tests.support.network_watch import NetworkWatch
from tests.support.schema import assert_valid


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("api", ["healthy", "slow", "hung", "refusing"])
def test_emit_is_a_local_append_whatever_the_api_does(api: str, spool_dir: str, emitters: list) -> None:
    server = FaultServer(default={"healthy": "ok", "slow": "slow:2", "hung": "hang", "refusing": "ok"}[api])
    url = refused_url() if api == "refusing" else server.url
    emitter = make_emitter(url, spool_dir, ALVIN_HTTP_TIMEOUT="30")
    emitters.append(emitter)
    try:
        emitter.emit(task_event(0))  # starts the sender, which may now sit in a slow/hung request
        with NetworkWatch(threading.get_ident()) as watch:
            ids = [emitter.emit(task_event(i)) for i in range(1, 101)]
        assert watch.events == []  # the calling thread never opened, sent or waited on a socket
        assert len(set(ids)) == 100
        pending = emitter.spool.status().pending_events
        if api != "healthy":
            assert pending >= 99  # nothing could have been delivered yet
    finally:
        server.close()


def test_flush_delivers_every_event_schema_valid(
    mock_backend: MockAlvinServer, spool_dir: str, emitters: list
) -> None:
    emitter = make_emitter(mock_backend.url, spool_dir)
    emitters.append(emitter)
    ids = [emitter.emit(task_event(i, event_type)) for i in range(25) for event_type in (START, COMPLETE)]
    assert emitter.flush(30)
    stored = mock_backend.store.events()
    assert sorted(s["idempotency_key"] for s in stored) == sorted(ids)
    for item in stored:
        assert_valid(item["event"])
    # Up to a window of events is in flight at once, but one run's events arrive in order.
    order = [(s["event"]["run"]["runId"], s["event"]["eventType"]) for s in stored]
    for run_id in {run for run, _ in order}:
        assert [kind for run, kind in order if run == run_id] == [START, COMPLETE]


def test_a_flush_ends_the_senders_step_aside_at_once(
    mock_backend: MockAlvinServer, spool_dir: str, emitters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At a try's end emit and flush follow each other: the sender, stepping aside for the task's
    # thread, must send as soon as that thread waits. With a step-aside of minutes, only that fits.
    monkeypatch.setattr(sender_module, "QUIET_SECONDS", 300.0)
    monkeypatch.setattr(sender_module, "MAX_YIELD_SECONDS", 600.0)
    emitter = make_emitter(mock_backend.url, spool_dir)
    emitters.append(emitter)
    ids = [emitter.emit(task_event(1, START))]
    assert emitter.flush(30)  # the sender now runs
    ids.append(emitter.emit(task_event(1, COMPLETE)))
    time.sleep(0.3)  # the sender takes the COMPLETE and steps aside for the emitting thread
    assert emitter.flush(30)  # not after the step-aside's 300 s
    assert [s["idempotency_key"] for s in mock_backend.store.events()] == ids


def test_a_process_that_goes_on_sends_in_bursts_and_a_flush_sends_at_once(
    mock_backend: MockAlvinServer, spool_dir: str, emitters: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "GATHER_SECONDS", 300.0)
    emitter = make_emitter(mock_backend.url, spool_dir)
    emitters.append(emitter)
    emitter.emit(task_event(0))
    assert wait_until(lambda: len(mock_backend.store.events()) == 1)  # sent at once: no bursts yet
    emitter.sender.deliver_in_bursts()  # as flush_at_exit does in a dags test
    ids = [emitter.emit(task_event(i)) for i in range(1, 4)]
    time.sleep(0.5)
    assert len(mock_backend.store.events()) == 1  # gathering (for 300 s here)
    assert emitter.flush(30)  # a flush ends the gathering at once
    assert {s["idempotency_key"] for s in mock_backend.store.events()} >= set(ids)


@pytest.fixture
def hung_emitter(fault_server: FaultServer, spool_dir: str, emitters: list) -> Emitter:
    """An emitter whose API accepts and never answers (a request of it times out after 60 s)."""
    fault_server.default = "hang"
    emitter = make_emitter(fault_server.url, spool_dir, ALVIN_HTTP_TIMEOUT="60")
    emitters.append(emitter)
    return emitter


def test_flush_on_a_hung_api_returns_at_its_timeout(hung_emitter: Emitter) -> None:
    emitter = hung_emitter
    emitter.emit(task_event(1))
    started = time.monotonic()
    assert emitter.flush(0.5) is False
    # Not the 60 s read timeout of the hung request: flush gave up at its own timeout.
    assert time.monotonic() - started < 30
    assert emitter.spool.status().pending_events == 1  # kept for a later process


def test_what_we_spool_and_every_wait_for_the_api_raise_audit_events(hung_emitter: Emitter) -> None:
    """A deployment (and tests/e2e) can see, with sys.addaudithook, which process waits for the API."""
    emitter = hung_emitter
    event = task_event(1)
    with NetworkWatch(threading.get_ident()) as watch:
        emitter.emit(event)
        assert emitter.flush(0.5) is False  # waits its budget for the hung API, which marks it down
        assert emitter.flush(0.5) is False  # known down on this machine: no wait
    assert [name for name, _args in watch.ours] == ["alvin_integration.emit", "alvin_integration.wait"]
    assert watch.ours[0][1] == (event.event_id, redact(event.to_dict()))  # as spooled, never the object
    timeout, budget = watch.ours[1][1]
    assert timeout == 0.5 and budget == FLUSH_FLOOR_SECONDS  # no latency known yet


def test_flush_does_not_wait_while_the_circuit_is_open(spool_dir: str, emitters: list) -> None:
    settings = settings_for(refused_url(), spool_dir)
    emitter = Emitter(settings, client=AlvinClient(settings, FAST), breaker=CircuitBreaker(base=120, cap=120))
    emitters.append(emitter)
    emitter.emit(task_event(1))
    assert wait_until(emitter.sender.breaker.is_open)
    started = time.monotonic()
    assert emitter.flush(60) is False
    assert time.monotonic() - started < 30  # returned at once instead of waiting 60 s
    assert emitter.spool.own_pending()


def test_a_wrong_key_is_said_once_and_events_wait_for_the_right_one(
    spool_dir: str,
    emitters: list,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_server(api_key=API_KEY)
    start_in_thread(server)
    try:
        wrong = make_emitter(server.url, spool_dir, ALVIN_API_KEY="wrong-key-987654")
        emitters.append(wrong)
        with caplog.at_level(logging.ERROR, logger="alvin_integration"):
            for i in range(3):
                wrong.emit(task_event(i))
            assert wrong.flush(1) is False
            assert wait_until(wrong.sender.breaker.is_open)
        rejected = [r for r in caplog.records if "API key rejected" in r.getMessage()]
        assert len(rejected) == 1
        assert server.url in rejected[0].getMessage() and "wrong-key-987654" not in caplog.text
        assert server.store.events() == []
        wrong.close()
        right = make_emitter(server.url, spool_dir)
        emitters.append(right)
        assert wait_until(lambda: right.sender.drain_once() and len(server.store.events()) == 3)
    finally:
        server.shutdown()
        server.server_close()


def test_a_rejected_event_goes_to_dead_letters_and_the_rest_flows(
    fault_server: FaultServer,
    spool_dir: str,
    emitters: list,
) -> None:
    fault_server.queue("status:400")
    emitter = make_emitter(fault_server.url, spool_dir)
    emitters.append(emitter)
    first = emitter.emit(task_event(1))
    second = emitter.emit(task_event(2))
    assert emitter.flush(10)
    # the two are in flight at once: the 400 answers whichever arrived first
    rejected, accepted = fault_server.keys(400), fault_server.keys(200)
    assert len(rejected) == 1 and sorted(rejected + accepted) == sorted([first, second])
    dead = Path(spool_dir, "dead-letter.jsonl").read_text()
    assert rejected[0] in dead and '"status":400' in dead
    assert fault_server.keys().count(rejected[0]) == 1  # never retried


def test_an_outage_loses_nothing(fault_server: FaultServer, spool_dir: str, emitters: list) -> None:
    fault_server.default = "status:503"
    emitter = make_emitter(fault_server.url, spool_dir)
    emitters.append(emitter)
    ids = [emitter.emit(task_event(i)) for i in range(30)]
    assert emitter.flush(0.3) is False
    fault_server.default = "ok"
    assert wait_until(lambda: set(fault_server.keys(200)) == set(ids))
    assert wait_until(lambda: not emitter.spool.own_pending())


def test_process_emitter_with_bad_settings_says_so_once_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("ALVIN_", "AIRFLOW__ALVIN__")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("ALVIN_URL", "not a url")
    with caplog.at_level(logging.INFO, logger="alvin_integration"):
        assert emitter_module.emit(task_event(1, START)) is None
        assert emitter_module.emit(task_event(2, START)) is None
        assert emitter_module.flush(5) is True
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    assert "ALVIN_URL" in lines[0] and "alvin.E002" in lines[0] and "ALVIN_API_KEY is not set" in lines[0]
    assert not any(r.exc_info for r in caplog.records)


def test_disabled_loads_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("ALVIN_DISABLED", "true")
    assert emitter_module.emit(task_event(1)) is None
    assert emitter_module.get_emitter() is None
    assert not (tmp_path / "alvin").exists()
