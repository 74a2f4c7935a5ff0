"""Real processes: kill -9 while emitting or draining, and fork, lose no appended event."""

from __future__ import annotations

import collections
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.support.fault_server import FaultServer, refused_url
from tests.support.processes import MockBackendProcess, alvin_env, python_process, run_cli
from tests.support.skips import needs_fork

pytestmark = [
    pytest.mark.slow,
    needs_fork,
]

EMIT_FOREVER = """
    import sys
    from alvin_integration.emitter import get_emitter
    from tests.support.events import task_event
    emitter = get_emitter()
    i = 0
    while True:
        print(emitter.emit(task_event(i)), flush=True)
        i += 1
"""


@pytest.fixture
def backend(tmp_path: Path):
    server = MockBackendProcess(str(tmp_path / "alvin.db"))
    yield server
    server.stop()


def assert_resends_only(backend: MockBackendProcess) -> None:
    """Every key the API received more than once came with the same body each time."""
    bodies = collections.defaultdict(set)
    for delivery in backend.get("/api/v1/deliveries"):
        bodies[delivery["idempotency_key"]].add(delivery["body_sha256"])
    assert all(len(shas) == 1 for shas in bodies.values())


def test_kill_9_while_emitting_loses_no_appended_event(backend: MockBackendProcess, spool_dir: str) -> None:
    env = alvin_env(backend.url, spool_dir)
    proc = python_process(EMIT_FOREVER, env)
    assert proc.stdout is not None
    appended = [proc.stdout.readline().strip() for _ in range(300)]
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    appended += [line for line in rest.splitlines() if line.strip()]

    result = run_cli(env, "spool", "flush", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    received = set(backend.keys())
    assert set(appended) <= received  # every event whose emit() returned was delivered
    assert_resends_only(backend)


def test_kill_9_while_draining_loses_nothing(backend: MockBackendProcess, spool_dir: str) -> None:
    filler = python_process(
        """
        import os
        from alvin_integration.emitter import get_emitter
        from tests.support.events import task_event
        emitter = get_emitter()
        for i in range(600):
            print(emitter.emit(task_event(i)), flush=True)
        os._exit(0)
        """,
        alvin_env(refused_url(), spool_dir),
    )
    out, err = filler.communicate(timeout=60)
    appended = out.split()
    assert len(appended) == 600, err

    env = alvin_env(backend.url, spool_dir)
    drainer = python_process(
        "from alvin_integration.cli import main; main(['spool', 'flush', '--timeout', '120'])", env
    )
    deadline = time.monotonic() + 60
    while len(backend.keys()) < 100 and time.monotonic() < deadline:
        time.sleep(0.01)
    drainer.send_signal(signal.SIGKILL)
    drainer.communicate(timeout=30)
    assert len(backend.keys()) > 0, "the drainer was killed before delivering anything"

    result = run_cli(env, "spool", "flush", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert set(backend.keys()) == set(appended)
    assert_resends_only(backend)
    status = run_cli(env, "spool", "status")
    assert "waiting events: 0" in status.stdout


FORK_SCRIPT = """
    import os, sys, time
    from alvin_integration.emitter import get_emitter
    from tests.support.events import task_event
    emitter = get_emitter()
    parent_ids = [emitter.emit(task_event(i)) for i in range(5)]
    time.sleep(1.0)  # the sender is now inside a request the server never answers
    pid = os.fork()
    if pid == 0:
        child_ids = [emitter.emit(task_event(100 + i)) for i in range(5)]
        flushed = emitter.flush(float(sys.argv[1])) if float(sys.argv[1]) > 0 else None
        with open(os.environ["RESULT_FILE"], "w") as out:
            out.write(" ".join(child_ids) + "\\n" + str(flushed) + "\\n")
        os._exit(0)
    os.waitpid(pid, 0)
    print(" ".join(parent_ids), flush=True)
    os._exit(0)
"""


def run_fork_script(env: dict, flush_timeout: float) -> tuple[list, list, str]:
    import subprocess
    import textwrap

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(FORK_SCRIPT), str(flush_timeout)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    child_ids, flushed = Path(env["RESULT_FILE"]).read_text().splitlines()
    return result.stdout.split(), child_ids.split(), flushed


def test_a_forked_child_never_resends_the_parents_in_flight_events(
    fault_server: FaultServer, backend: MockBackendProcess, spool_dir: str, tmp_path: Path
) -> None:
    fault_server.queue("hang")  # the parent's first request hangs; everything after is accepted
    env = alvin_env(fault_server.url, spool_dir, RESULT_FILE=str(tmp_path / "child"))
    parent_ids, child_ids, flushed = run_fork_script(env, flush_timeout=20)
    assert flushed == "True"  # the child got a fresh sender and delivered its own events
    sent = fault_server.keys()
    assert all(sent.count(key) == 1 for key in child_ids)
    assert all(sent.count(key) <= 1 for key in parent_ids)  # nothing of the parent's sent twice
    # The parent died before its sender got an answer: a later process delivers its events.
    result = run_cli(alvin_env(backend.url, spool_dir), "spool", "flush", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    # every parent event arrived: accepted before the parent died, or delivered now (and only
    # those: the child's own events are not sent again)
    accepted = set(fault_server.keys(status=200))
    assert set(parent_ids) <= set(backend.keys()) | accepted
    assert set(backend.keys()) <= set(parent_ids)


def test_a_forked_childs_unsent_events_are_delivered_by_a_later_process(
    fault_server: FaultServer, backend: MockBackendProcess, spool_dir: str, tmp_path: Path
) -> None:
    fault_server.default = "hang"
    env = alvin_env(fault_server.url, spool_dir, RESULT_FILE=str(tmp_path / "child"))
    parent_ids, child_ids, flushed = run_fork_script(env, flush_timeout=0)  # child exits at once
    assert flushed == "None"
    result = run_cli(alvin_env(backend.url, spool_dir), "spool", "flush", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert set(backend.keys()) == set(parent_ids) | set(child_ids)


def test_a_process_that_goes_on_after_its_tries_delivers_their_events_at_its_exit(
    backend: MockBackendProcess, spool_dir: str
) -> None:
    """`dags test`'s form: no try's end waited; the normal exit right after the emits waits once."""
    proc = python_process(
        """
        import atexit
        from alvin_integration.emitter import flush_at_exit, get_emitter
        from tests.support.events import task_event
        emitter = get_emitter()
        registered = atexit._ncallbacks()
        ids = [emitter.emit(task_event(i)) for i in range(20)]
        for _ in ids:
            flush_at_exit()  # at every try's end: registered once
        assert atexit._ncallbacks() == registered + 1
        print(" ".join(ids), flush=True)
        """,
        alvin_env(backend.url, spool_dir),
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(out.split()) == 20
    assert set(out.split()) <= set(backend.keys())
