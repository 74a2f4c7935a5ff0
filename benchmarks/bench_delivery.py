"""Benchmark: emit() latency per API state, drain throughput, flush() at process end.

Not a test: it prints figures. Servers run as separate processes on loopback, as in production.
Run with ``make bench`` (or ``python benchmarks/bench_delivery.py``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Callable, Dict, List, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from alvin_integration.config import Settings, load_settings  # noqa: E402
from alvin_integration.emitter import Emitter  # noqa: E402
from tests.support.backlog import leave_tries  # noqa: E402
from tests.support.events import task_event  # noqa: E402
from tests.support.fault_server import refused_url  # noqa: E402

EMITS = int(os.environ.get("BENCH_EMITS", "5000"))
DRAIN_EVENTS = int(os.environ.get("BENCH_DRAIN_EVENTS", "5000"))
BACKLOG_TRIES = int(os.environ.get("BENCH_BACKLOG_TRIES", "1500"))

FAULT_SERVER = """
    import sys, time
    from tests.support.fault_server import FaultServer
    server = FaultServer(default=sys.argv[1])
    print(server.url, flush=True)
    time.sleep(3600)
"""


def start(args: List[str]) -> Tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    url = line.split(" on ", 1)[1].split(" ", 1)[0] if " on " in line else line
    return proc, url


def mock_backend(db: str) -> Tuple[subprocess.Popen[str], str]:
    return start([sys.executable, "-m", "alvin_integration.cli", "mock-backend", "--port", "0", "--db", db])


def fault_server(mode: str) -> Tuple[subprocess.Popen[str], str]:
    return start([sys.executable, "-c", textwrap.dedent(FAULT_SERVER), mode])


def settings(url: str, spool: str, **extra: str) -> Settings:
    env = {"ALVIN_URL": url, "ALVIN_API_KEY": "bench-key-123456", "ALVIN_PLATFORM_ID": "bench"}
    env.update(ALVIN_SPOOL_DIR=spool, ALVIN_HTTP_TIMEOUT="30", **extra)
    loaded = load_settings(env, config_path="/nonexistent")
    assert loaded.settings is not None, loaded.problems
    return loaded.settings


def emit_latency(url: str) -> Dict[str, float]:
    events = [task_event(i) for i in range(EMITS)]
    with tempfile.TemporaryDirectory() as spool:
        emitter = Emitter(settings(url, spool))
        emitter.emit(task_event(-1))  # the sender starts and meets the API's state
        time.sleep(0.2)
        samples = []
        for event in events:
            started = time.perf_counter()
            emitter.emit(event)
            samples.append(time.perf_counter() - started)
        emitter.close(timeout=0.5)
    samples.sort()
    return {
        "p50_us": samples[len(samples) // 2] * 1e6,
        "p99_us": samples[int(len(samples) * 0.99)] * 1e6,
        "max_us": samples[-1] * 1e6,
    }


def _drain_rate(fill: Callable[[str], int]) -> float:
    """Events/s of one drain pass to the mock API over what ``fill(spool)`` spooled (it returns how many)."""
    with tempfile.TemporaryDirectory() as work:
        proc, url = mock_backend(os.path.join(work, "alvin.db"))
        try:
            spool = os.path.join(work, "spool")
            events = fill(spool)
            drainer = Emitter(settings(url, spool))
            started = time.perf_counter()
            assert drainer.sender.drain_once()
            elapsed = time.perf_counter() - started
            assert drainer.sender.delivered == events, drainer.sender.delivered
            drainer.close()
            return events / elapsed
        finally:
            proc.terminate()


def _one_segment(spool: str) -> int:
    filler = Emitter(settings(refused_url(), spool))
    filler.sender.start = lambda keep_drain_lock=False: None  # type: ignore[method-assign]  # fill only
    for i in range(DRAIN_EVENTS):
        filler.emit(task_event(i))
    filler.spool.close()
    return DRAIN_EVENTS


def drain_throughput() -> float:
    """Events/s of one process's segment of ``DRAIN_EVENTS`` events of different runs."""
    return _drain_rate(_one_segment)


def backlog_drain() -> float:
    """Events/s of a backlog left by ended tries (a segment each: a START and a COMPLETE of one run)."""
    return _drain_rate(lambda spool: len(leave_tries(spool, BACKLOG_TRIES, events=True)))


def flush_times(hung_url: str) -> Tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as spool:
        flush_timeout = 2.0
        emitter = Emitter(settings(hung_url, spool, ALVIN_FLUSH_TIMEOUT=str(flush_timeout)))
        emitter.emit(task_event(1))
        started = time.perf_counter()
        emitter.flush(emitter.settings.flush_timeout)
        hung = time.perf_counter() - started
        emitter.sender.breaker.failure(at_least=60)  # as after a failed delivery
        started = time.perf_counter()
        emitter.flush(emitter.settings.flush_timeout)
        open_circuit = time.perf_counter() - started
        emitter.close(timeout=0.1)
    return flush_timeout, hung, open_circuit


def main() -> None:
    procs = []
    with tempfile.TemporaryDirectory() as work:
        healthy = mock_backend(os.path.join(work, "alvin.db"))
        slow = fault_server("slow:2")
        hung = fault_server("hang")
        procs = [healthy[0], slow[0], hung[0]]
        try:
            # Throughput first: the slow and hung scenarios below leave senders waiting in this process.
            rates = [drain_throughput() for _ in range(3)]
            backlog = [backlog_drain() for _ in range(3)]
            states = {
                "healthy": healthy[1],
                "slow (2 s)": slow[1],
                "hung": hung[1],
                "refusing": refused_url(),
            }
            python = sys.version.split()[0]
            print(f"emit() latency, {EMITS} events per state (python {python}, {os.cpu_count()} cores)")
            print(f"{'API state':<12} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>9}")
            for name, url in states.items():
                figures = emit_latency(url)
                p50, p99, top = figures["p50_us"], figures["p99_us"], figures["max_us"]
                print(f"{name:<12} {p50:>8.1f} {p99:>8.1f} {top:>9.1f}")
            print(
                f"\ndrain to the mock API over loopback: {statistics.median(rates):.0f} events/s "
                f"(median of 3 runs of {DRAIN_EVENTS}: {', '.join(f'{r:.0f}' for r in rates)})"
            )
            print(
                f"a backlog of {BACKLOG_TRIES} ended tries ({2 * BACKLOG_TRIES} events, a segment "
                f"each) to the mock API: {statistics.median(backlog):.0f} events/s (median of 3: "
                f"{', '.join(f'{r:.0f}' for r in backlog)})"
            )
            timeout, hung_s, open_s = flush_times(hung[1])
            print(
                f"\nflush() with the API hung: {hung_s:.3f} s (ALVIN_FLUSH_TIMEOUT={timeout:g} s); "
                f"with the circuit open: {open_s * 1000:.3f} ms"
            )
        finally:
            for proc in procs:
                proc.terminate()


if __name__ == "__main__":
    main()
