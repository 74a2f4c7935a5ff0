"""The spool: durable, checksummed, claimable across processes, capped."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Callable, List

import pytest

from alvin_integration.spool import STALE_SECONDS, Record, Spool, Verdict

MB = 1024 * 1024


def record(i: int, size: int = 0) -> Record:
    return Record(id=f"id-{i}", path="/api/v1/lineage", body=b'{"i":%d,"pad":"%s"}' % (i, b"x" * size))


def collector(received: List[str], stop_after: int = -1) -> Callable[[Record], Future[Verdict]]:
    def submit(rec: Record) -> Future[Verdict]:
        future: Future[Verdict] = Future()
        if stop_after >= 0 and len(received) >= stop_after:
            future.set_result(Verdict.STOP)
        else:
            received.append(rec.id)
            future.set_result(Verdict.DONE)
        return future

    return submit


def never() -> bool:
    return False


def segment_files(spool: Spool) -> List[str]:
    return sorted(n for n in os.listdir(spool.segments_dir) if n.endswith(".seg"))


def run_writer(spool_dir: str, count: int, then: str) -> subprocess.Popen[bytes]:
    """Another process that appends ``count`` records, then sleeps or exits with os._exit."""
    code = (
        "import os, sys, time\n"
        "from alvin_integration.spool import Record, Spool\n"
        f"s = Spool({spool_dir!r}, 64 * 1024 * 1024)\n"
        f"for i in range({count}):\n"
        "    s.append(Record(id=f'other-{i}', path='/api/v1/lineage', body=b'{}'))\n"
        "print('appended', flush=True)\n" + ("time.sleep(600)\n" if then == "sleep" else "os._exit(0)\n")
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"appended"
    return proc


def test_records_round_trip_in_order(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    for i in range(50):
        spool.append(record(i))
    assert spool.own_pending()
    received: List[str] = []
    assert spool.drain(collector(received), never, window=4)
    assert received == [f"id-{i}" for i in range(50)]
    assert not spool.own_pending()
    assert spool.status().pending_events == 0


def test_record_encoding_detects_damage() -> None:
    line = record(1).encode()
    assert Record.decode(line[:-1]).id == "id-1"
    damaged = line[:20] + (b"X" if line[20:21] != b"X" else b"Y") + line[21:-1]
    with pytest.raises(ValueError, match="checksum"):
        Record.decode(damaged)
    with pytest.raises(ValueError, match="must be single tokens"):
        Record(id="has space", path="/p", body=b"{}").encode()


def test_delivery_resumes_after_the_last_acknowledged_record(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    for i in range(10):
        spool.append(record(i))
    received: List[str] = []
    assert not spool.drain(collector(received, stop_after=4), never, window=3)
    assert received == [f"id-{i}" for i in range(4)]
    spool.close()
    # A new process (here: a new Spool) claims the released segment and resumes from the ack.
    later: List[str] = []
    assert Spool(spool_dir, 64 * MB).drain(collector(later), never)
    assert later == [f"id-{i}" for i in range(4, 10)]
    assert segment_files(spool) == []


def test_a_live_writers_segment_is_not_claimed(spool_dir: str) -> None:
    writer = run_writer(spool_dir, 5, then="sleep")
    try:
        received: List[str] = []
        assert Spool(spool_dir, 64 * MB).drain(collector(received), never)
        assert received == []
        assert Spool(spool_dir, 64 * MB).status().segments_in_use == 1
    finally:
        writer.kill()
        writer.wait()
    received = []
    assert Spool(spool_dir, 64 * MB).drain(collector(received), never)
    assert received == [f"other-{i}" for i in range(5)]


def test_a_dead_writers_segment_is_drained_by_another_process(spool_dir: str) -> None:
    run_writer(spool_dir, 7, then="exit").wait()
    received: List[str] = []
    spool = Spool(spool_dir, 64 * MB)
    assert spool.drain(collector(received), never)
    assert received == [f"other-{i}" for i in range(7)]
    assert segment_files(spool) == []


def _write_segment(spool: Spool, name: str, data: bytes) -> Path:
    os.makedirs(spool.segments_dir, exist_ok=True)
    path = Path(spool.segments_dir) / name
    path.write_bytes(data)
    return path


def test_a_torn_last_record_is_skipped(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    good = b"".join(record(i).encode() for i in range(3))
    _write_segment(spool, "00000000000000000001-1-aa.seg", good + record(3).encode()[:25])
    received: List[str] = []
    assert spool.drain(collector(received), never)
    assert received == ["id-0", "id-1", "id-2"]
    assert segment_files(spool) == [] and not os.path.exists(spool.corrupt_dir)


def test_a_corrupt_segment_is_moved_aside_and_reported(
    spool_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(spool_dir, 64 * MB)
    lines = [record(i).encode() for i in range(3)]
    lines[1] = lines[1][:30] + b"#" + lines[1][31:]
    _write_segment(spool, "00000000000000000001-1-aa.seg", b"".join(lines))
    _write_segment(spool, "00000000000000000002-1-bb.seg", os.urandom(300).replace(b"\n", b"") + b"\n")
    received: List[str] = []
    with caplog.at_level(logging.WARNING, logger="alvin_integration"):
        assert spool.drain(collector(received), never)
    assert received == ["id-0", "id-2"]
    assert sorted(os.listdir(spool.corrupt_dir)) == [
        "00000000000000000001-1-aa.seg",
        "00000000000000000002-1-bb.seg",
    ]
    assert "skipped 1 damaged record" in caplog.text and "moved to" in caplog.text
    assert spool.corrupt_records == 2
    assert spool.status().corrupt_files == 2


def test_size_cap_drops_oldest_first_with_a_counted_warning(
    spool_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    cap = 200 * 1024
    spool = Spool(spool_dir, cap, rotate_bytes=20 * 1024)
    with caplog.at_level(logging.WARNING, logger="alvin_integration"):
        for i in range(2000):
            spool.append(record(i, size=400))
    on_disk = sum(os.path.getsize(os.path.join(spool.segments_dir, n)) for n in segment_files(spool))
    assert on_disk <= cap
    assert spool.dropped_events > 0
    assert "spool is full" in caplog.text and "ALVIN_SPOOL_MAX_MB" in caplog.text
    received: List[str] = []
    assert spool.drain(collector(received), never)
    kept = [int(r.split("-")[1]) for r in received]
    assert kept == sorted(kept) and kept[-1] == 1999  # the newest survive
    assert len(kept) + spool.dropped_events == 2000  # every record is delivered or counted as dropped


def test_leftovers_of_dead_processes_are_cleaned(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    orphan_ack = _write_segment(spool, "00000000000000000001-1-aa.ack", b"12\n")
    temp = _write_segment(spool, ".tmp-00000000000000000002-1-bb.seg", b"")
    fresh_ack = _write_segment(spool, "00000000000000000003-1-cc.ack", b"0\n")
    old = time.time() - STALE_SECONDS - 5
    for path in (orphan_ack, temp):
        os.utime(path, (old, old))
    spool.drain(collector([]), never)
    assert not orphan_ack.exists() and not temp.exists()
    assert fresh_ack.exists()  # too young: its writer may be between two steps


def test_a_segment_still_under_its_temporary_name_is_never_drained(spool_dir: str) -> None:
    # A writer creates its segment as .tmp-<name> and locks it a moment later: a drainer taking the
    # unlocked, empty file in between deleted it, and the writer's event was lost (seen in the soak).
    spool = Spool(spool_dir, 64 * MB)
    being_made = _write_segment(spool, ".tmp-00000000000000000004-1-dd.seg", b"")
    assert spool.drain(collector([]), never)
    assert being_made.exists()


def test_an_event_survives_its_new_segments_temporary_file_vanishing(
    spool_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from alvin_integration import spool as spool_module

    real_flock, removed = fcntl.flock, []

    def flock_after_someone_removed_it(fd: int, operation: int) -> None:
        if not removed:  # the first segment's temporary file goes, as another process removed it
            name = next(n for n in os.listdir(spool.segments_dir) if n.startswith(".tmp-"))
            os.unlink(os.path.join(spool.segments_dir, name))
            removed.append(name)
        real_flock(fd, operation)

    monkeypatch.setattr(spool_module.fcntl, "flock", flock_after_someone_removed_it)
    spool = Spool(spool_dir, 64 * MB)
    spool.append(record(1))
    received: List[str] = []
    assert removed and spool.drain(collector(received), never)
    assert received == ["id-1"]


def test_dead_letters_are_kept_and_counted(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    spool.dead_letter(record(1), 400, "missing field")
    status = spool.status()
    assert status.dead_letters == 1
    assert '"reason":"missing field"' in Path(spool.dead_letter_path).read_text()


def test_status_counts_what_waits(spool_dir: str) -> None:
    spool = Spool(spool_dir, 64 * MB)
    for i in range(4):
        spool.append(record(i))
    status = spool.status()
    assert status.pending_events == 4 and status.segments == 1 and status.oldest_event is not None
