"""A long-lived process's drain runs at a lower CPU priority; a try's process and its caller do not."""

from __future__ import annotations

import sys
import threading
from typing import Dict

import pytest

from alvin_integration.emitter import Emitter
from alvin_integration.model import START
from alvin_integration.thread_priority import NICE_INCREMENT, thread_nice, yield_cpu_to_host
from tests.support.emitters import make_emitter
from tests.support.events import task_event
from tests.support.fault_server import FaultServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def _nice_of_threads(prefix: str) -> Dict[str, int]:
    return {t.name: thread_nice(t.native_id) for t in threading.enumerate() if t.name.startswith(prefix)}


def _deliver_one(emitter: Emitter) -> None:
    emitter.emit(task_event(0, START))
    assert emitter.flush(30)


def test_a_process_that_keeps_the_drain_lock_delivers_from_lowered_threads(spool_dir: str) -> None:
    server = FaultServer()
    emitter = make_emitter(server.url, spool_dir)
    base = thread_nice(threading.get_native_id())
    try:
        emitter.sender.start(keep_drain_lock=True)
        _deliver_one(emitter)
        sender = _nice_of_threads("alvin-sender")
        workers = _nice_of_threads("alvin-delivery")
    finally:
        emitter.close()
        server.close()
    assert set(sender.values()) == {min(19, base + NICE_INCREMENT)}, sender
    assert workers and set(workers.values()) == {min(19, base + NICE_INCREMENT)}, workers
    assert thread_nice(threading.get_native_id()) == base  # the host's own thread is left alone


def test_a_tries_process_delivers_at_its_own_priority(spool_dir: str) -> None:
    server = FaultServer()
    emitter = make_emitter(server.url, spool_dir)
    base = thread_nice(threading.get_native_id())
    try:
        _deliver_one(emitter)
        threads = {**_nice_of_threads("alvin-sender"), **_nice_of_threads("alvin-delivery")}
    finally:
        emitter.close()
        server.close()
    assert threads and set(threads.values()) == {base}, threads


def test_lowering_is_idempotent() -> None:
    found = []

    def twice() -> None:
        found.append((yield_cpu_to_host(), yield_cpu_to_host(), thread_nice(threading.get_native_id())))

    base = thread_nice(threading.get_native_id())
    thread = threading.Thread(target=twice)
    thread.start()
    thread.join()
    assert found == [(True, True, min(19, base + NICE_INCREMENT))]
