"""API health shared by the processes of a machine: a finishing task never waits for an API known down."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import List

from alvin_integration.circuit import SharedHealth
from alvin_integration.client import RetryPolicy
from alvin_integration.emitter import Emitter
from tests.support.events import settings_for, task_event
from tests.support.fault_server import FaultServer, refused_url

HANG_GUARD = 120.0  # only against a hang: the old behaviour waited 600 s here


def flush_in_thread(emitter: Emitter, timeout: float) -> List[bool]:
    """Run ``flush(timeout)``; returns [result] once it returned (empty if it hung)."""
    result: List[bool] = []
    thread = threading.Thread(target=lambda: result.append(emitter.flush(timeout)), daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    return result


def down_for_once_known(health: SharedHealth) -> float:
    """``health.down_for()`` once some process marked the API down (a loaded machine's sender may
    make its first attempt after a flush already gave up on a silent API); 0 if never within the
    hang guard."""
    deadline = time.monotonic() + HANG_GUARD
    while health.down_for() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    return health.down_for()


def test_the_health_file_round_trips_and_bad_files_are_ignored(tmp_path: Path) -> None:
    health = SharedHealth(str(tmp_path))
    assert health.read() == {} and health.down_for() == 0
    health.mark_down(30)
    assert 25 < health.down_for() <= 30
    health.mark_up(0.02)
    assert health.down_for() == 0 and health.read()["latency"] == 0.02
    now = time.time()
    for bad in (
        b"not json",
        json.dumps({"updated": now + 3600, "down_until": now + 3700}).encode(),  # from the future
        json.dumps({"updated": now - 7200, "down_until": now + 10}).encode(),  # stale
        json.dumps({"updated": now, "down_until": now + 86400}).encode(),  # an outage beyond the cap
        json.dumps({"updated": now, "down_until": "soon"}).encode(),
        json.dumps({"updated": now, "down_until": now + 10, "failures": -1}).encode(),
        json.dumps({"updated": now, "down_until": 0.0, "latency": float("nan")}).encode(),
    ):
        Path(health.path).write_bytes(bad)
        assert health.read() == {} and health.down_for() == 0, bad
    os.unlink(health.path)
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"updated": now, "down_until": now + 60}))
    os.symlink(target, health.path)
    assert health.down_for() == 0  # a link is never followed


def test_the_health_file_counts_the_machines_failures_and_says_so_in_a_line(tmp_path: Path) -> None:
    health = SharedHealth(str(tmp_path))
    assert health.describe().endswith("nothing known yet")
    health.mark_up(0.04)
    assert "up, a delivery took 0.040s" in health.describe()
    for _ in range(3):  # three failed attempts, from whichever processes
        health.mark_down(30)
    written = json.loads(Path(health.path).read_text())
    assert written["state"] == "down" and written["failures"] == 3 and written["latency"] == 0.04
    assert "down for 30s more after 3 failed attempt(s)" in health.describe()
    assert "recovering after 3 failed attempt(s)" in health.describe(now=time.time() + 60)
    health.mark_up(0.05)
    written = json.loads(Path(health.path).read_text())
    assert written["state"] == "up" and written["failures"] == 0


def test_the_first_failed_attempt_ends_a_waiting_flush(spool_dir: str) -> None:
    emitter = Emitter(settings_for(refused_url(), spool_dir))
    emitter.sender.client.policy = RetryPolicy(base_delay=5.0, max_delay=5.0, window=600.0)  # retries go on
    try:
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 600.0) == [False]  # not after the 600 s retry window
        assert down_for_once_known(emitter.sender.health) > 0  # and every other process knows
    finally:
        emitter.close(timeout=1)


def test_another_process_does_not_wait_for_an_api_known_down(spool_dir: str) -> None:
    hung = FaultServer(default="hang")
    os.makedirs(spool_dir)
    SharedHealth(spool_dir).mark_down(60)  # as another process of this machine left it
    emitter = Emitter(settings_for(hung.url, spool_dir))
    try:
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 600.0) == [False]
        time.sleep(0.3)
        assert hung.requests == []  # its sender waits too, instead of piling on
    finally:
        emitter.close(timeout=1)
        hung.close()


def test_when_the_outage_is_over_events_flow_and_the_machine_learns_it(spool_dir: str) -> None:
    server = FaultServer(default="ok")
    health = SharedHealth(spool_dir)
    os.makedirs(spool_dir, exist_ok=True)
    now = time.time()
    Path(health.path).write_text(json.dumps({"updated": now - 5, "down_until": now - 1}))  # just over
    emitter = Emitter(settings_for(server.url, spool_dir))
    try:
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 60.0) == [True]
        assert len(server.requests) == 1
        assert health.down_for() == 0 and health.read()["latency"] > 0
    finally:
        emitter.close(timeout=1)
        server.close()


def test_a_flush_left_unanswered_tells_the_other_processes(spool_dir: str) -> None:
    hung = FaultServer(default="hang")  # accepts, never answers: no attempt fails in time
    first = Emitter(settings_for(hung.url, spool_dir))
    try:
        first.emit(task_event(1))
        assert first.flush(0.5) is False
        assert down_for_once_known(first.sender.health) > 0  # the next task process will not wait
    finally:
        first.close(timeout=1)
        hung.close()


def test_a_first_flush_with_nothing_known_does_not_wait_its_timeout_for_a_hung_api(spool_dir: str) -> None:
    hung = FaultServer(default="hang")
    emitter = Emitter(settings_for(hung.url, spool_dir))  # a fresh machine: no latency known
    try:
        emitter.emit(task_event(1))  # the START: sent at once, never answered
        assert flush_in_thread(emitter, 600.0) == [False]  # not the 600 s: the API stayed silent
        assert down_for_once_known(emitter.sender.health) > 0  # and the machine's other processes know
    finally:
        emitter.close(timeout=1)
        hung.close()


def test_a_flush_waits_while_the_api_answers_even_past_its_budget(spool_dir: str) -> None:
    server = FaultServer(default="slow:0.1")  # every answer takes 0.1 s: 20 of them, one at a time
    emitter = Emitter(settings_for(server.url, spool_dir), window=1)
    try:
        for index in range(20):
            emitter.emit(task_event(index))
        assert flush_in_thread(emitter, 600.0) == [True]  # 2 s of answers, each within the budget
        assert emitter.sender.health.down_for() == 0
    finally:
        emitter.close(timeout=1)
        server.close()


def test_after_an_outage_one_process_probes_and_the_others_do_not_wait(tmp_path: Path) -> None:
    mine, theirs = SharedHealth(str(tmp_path)), SharedHealth(str(tmp_path))  # two open files: two processes
    now = time.time()
    Path(mine.path).write_text(json.dumps({"updated": now - 5, "down_until": now - 1}))  # pause over
    assert mine.half_open() and theirs.half_open()
    assert mine.claim_probe()
    assert not theirs.claim_probe() and theirs.probing_elsewhere() and not mine.probing_elsewhere()
    mine.mark_up(0.05)  # the probe was answered
    mine.release_probe()
    assert not theirs.half_open() and not theirs.probing_elsewhere()
    assert theirs.claim_probe()  # free again for the next outage
    theirs.release_probe()


def test_with_the_api_back_a_probe_closes_the_circuit_and_the_spool_drains(tmp_path: Path) -> None:
    spool = str(tmp_path / "spool")
    server = FaultServer(default="ok")
    emitter = Emitter(settings_for(server.url, spool))
    try:
        os.makedirs(spool, mode=0o700, exist_ok=True)
        now = time.time()
        Path(emitter.sender.health.path).write_text(json.dumps({"updated": now - 5, "down_until": now - 1}))
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 30.0) == [True]  # the probe: delivered
        assert not emitter.sender.health.half_open() and emitter.sender.health.down_for() == 0
        assert len(server.keys(200)) == 1
    finally:
        emitter.close(timeout=1)
        server.close()


def test_a_sender_backed_off_resumes_once_another_process_saw_the_api_answer(spool_dir: str) -> None:
    server = FaultServer(default="ok")
    emitter = Emitter(settings_for(server.url, spool_dir))
    try:
        emitter.sender.breaker.pause(3600)  # backed off after its own failures, long before the API came back
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 1.0) == [False]  # it waits out its pause
        SharedHealth(spool_dir).mark_up(0.01)  # another process of the machine delivered just now
        deadline = time.monotonic() + HANG_GUARD
        while emitter.spool.own_pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not emitter.spool.own_pending() and len(server.keys(200)) == 1
    finally:
        emitter.close(timeout=1)
        server.close()


def test_a_finishing_task_does_not_wait_for_an_api_known_to_be_slow(tmp_path: Path) -> None:
    spool = str(tmp_path / "spool")
    os.makedirs(spool, mode=0o700)
    Path(SharedHealth(spool).path).write_text(
        json.dumps({"updated": time.time(), "down_until": 0, "latency": 2.0})
    )
    server = FaultServer(default="hang")  # whatever it does now, the machine saw it answer in 2 s
    emitter = Emitter(settings_for(server.url, spool))
    try:
        emitter.emit(task_event(1))
        assert flush_in_thread(emitter, 30.0) == [False]  # not waited for: it stays spooled
        assert emitter.spool.own_pending()
    finally:
        emitter.close(timeout=1)
        server.close()


def test_a_process_never_takes_its_own_senders_probe_for_another_process(spool_dir: str) -> None:
    os.makedirs(spool_dir, exist_ok=True)
    health = SharedHealth(spool_dir)
    now = time.time()
    Path(health.path).write_text(json.dumps({"updated": now - 5, "down_until": now - 1}))  # half-open
    stop = threading.Event()

    def sender() -> None:  # claims and answers the probe over and over, as a sender does
        while not stop.is_set():
            health.claim_probe()
            health.release_probe()

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    try:
        seen = [health.probing_elsewhere() for _ in range(3000)]  # what a flush asks meanwhile
    finally:
        stop.set()
        thread.join(HANG_GUARD)
    assert not any(seen)
    other = SharedHealth(spool_dir)  # another process's view: our claim is seen from there
    assert health.claim_probe() and other.probing_elsewhere()
    health.release_probe()
    assert not other.probing_elsewhere()
