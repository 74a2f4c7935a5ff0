"""A backlog left by processes that ended (an outage, a busy machine) drains at the API's pace.

One segment per ended try, a START and a COMPLETE of one run in each: the delivery window spans
segments, so a pass is not one round trip per event. One process of the machine drains it (the
holder of the drain lock, which a long-lived process keeps); the others deliver only their own.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Dict, List

from alvin_integration.emitter import Emitter
from alvin_integration.machine_lock import MachineLock
from alvin_integration.model import START
from alvin_integration.spool import Record, Spool, Verdict
from tests.support.backlog import leave_tries
from tests.support.emitters import make_emitter
from tests.support.events import task_event
from tests.support.fault_server import FaultServer
from tests.support.skips import needs_fork

MB = 1024 * 1024


@needs_fork
def test_a_pass_keeps_the_window_full_across_the_segments_of_ended_tries(spool_dir: str) -> None:
    ids = leave_tries(spool_dir, 40)
    lock = threading.Lock()
    in_flight, most = [0], [0]
    order: List[str] = []
    pool = ThreadPoolExecutor(4)

    def deliver(record: Record) -> Verdict:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.005)  # the API's round trip
        with lock:
            in_flight[0] -= 1
            order.append(record.id)
        return Verdict.DONE

    def submit(record: Record) -> Future[Verdict]:
        return pool.submit(deliver, record)

    try:
        assert Spool(spool_dir, 64 * MB).drain(submit, lambda: False, window=4)
    finally:
        pool.shutdown()
    assert set(order) == ids and len(order) == len(ids)  # each once
    assert most[0] > 1, "one delivery at a time: the window was idle between segments"
    for number in range(40):  # a try's START is settled before its COMPLETE is sent
        assert order.index(f"try-{number}-start") < order.index(f"try-{number}-complete")
    assert Spool(spool_dir, 64 * MB).status().pending_events == 0


def wait_for(condition, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


@needs_fork
def test_one_long_lived_process_drains_the_backlog_and_the_others_send_only_their_own(
    spool_dir: str,
    emitters: List[Emitter],
) -> None:
    drainer_api, task_api = FaultServer(default="slow:0.01"), FaultServer()
    try:
        backlog = leave_tries(spool_dir, 150)
        drainer = make_emitter(drainer_api.url, spool_dir)
        emitters.append(drainer)
        task = make_emitter(task_api.url, spool_dir)  # a task process of the same machine
        emitters.append(task)
        drainer.sender.start(keep_drain_lock=True)  # the scheduler's sender: keeps the drain lock
        assert wait_for(lambda: drainer.sender.drain_lock.held)
        assert not task.sender.drain_lock.acquire()  # one drainer at a time

        own = task.emit(task_event(1, START))
        task.flush(10.0)  # how long it waits is flush_wait's rule (tests/unit/test_flush_wait.py)
        assert wait_for(lambda: own in task_api.keys(200))
        more = leave_tries(spool_dir, 50, first=150)  # tries that ended meanwhile

        assert wait_for(lambda: backlog | more <= set(drainer_api.keys(200)))
        assert set(task_api.keys()) == {own}  # the task's process sent its own, none of the backlog
        received: Dict[str, int] = {}
        for key in drainer_api.keys(200):
            received[key] = received.get(key, 0) + 1
        assert all(count == 1 for count in received.values())
        assert wait_for(lambda: Spool(spool_dir, 64 * MB).status().pending_events == 0)
    finally:
        drainer_api.close()
        task_api.close()


def test_a_process_that_is_not_long_lived_lets_the_drain_lock_go_after_its_pass(
    spool_dir: str, emitters: List[Emitter]
) -> None:
    server = FaultServer()
    try:
        emitter = make_emitter(server.url, spool_dir)
        emitters.append(emitter)
        event_id = emitter.emit(task_event(1))
        emitter.flush(10.0)
        assert wait_for(lambda: event_id in server.keys(200))
        assert wait_for(lambda: not emitter.sender.drain_lock.held)
        other = make_emitter(server.url, spool_dir)
        emitters.append(other)
        # free for whoever drains next (between the passes the first sender makes, one per poll)
        assert wait_for(other.sender.drain_lock.acquire)
    finally:
        server.close()


@needs_fork
def test_a_drain_lock_whose_holder_was_killed_is_free(spool_dir: str) -> None:
    os.makedirs(spool_dir, exist_ok=True)
    path = os.path.join(spool_dir, "drain.lock")
    pid = os.fork()
    if pid == 0:
        MachineLock(path).acquire()
        os.kill(os.getpid(), 9)
    os.waitpid(pid, 0)
    assert MachineLock(path).acquire()


def test_a_sender_backed_off_for_a_minute_is_the_machines_probe_within_seconds(
    spool_dir: str, emitters: List[Emitter]
) -> None:
    """A long outage grows a sender's backoff to a minute; the machine still probes every few seconds."""
    from alvin_integration.circuit import CircuitBreaker
    from alvin_integration.sender import PROBE_EVERY_SECONDS

    server = FaultServer(default="status:503")
    try:
        drainer = make_emitter(server.url, spool_dir)
        drainer.sender.breaker = CircuitBreaker(base=60.0, cap=60.0)  # a minute of backoff after each failure
        emitters.append(drainer)
        drainer.sender.start(keep_drain_lock=True)
        event_id = drainer.emit(task_event(1))
        # the breaker opens a moment before the machine is told: wait for both
        assert wait_for(lambda: drainer.sender.breaker.is_open() and drainer.sender.health.down_for() > 0)
        assert drainer.sender.breaker.seconds_left() > 30
        assert 0 < drainer.sender.health.down_for() <= PROBE_EVERY_SECONDS  # the machine's pause is short
        server.default = "ok"  # the API is back: the sender probes long before its minute is over
        assert wait_for(lambda: event_id in server.keys(200), timeout=45.0)
        assert not drainer.sender.breaker.is_open()
    finally:
        server.close()
