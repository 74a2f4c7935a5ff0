"""The spool against a full disk, damaged records and acks, and files it must not trust."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import List

import pytest

from alvin_integration.spool import Spool, SpoolUnusable
from alvin_integration.spool_dir import ack_of
from alvin_integration.spool_records import ack_line
from tests.unit.test_spool import collector, never, record, segment_files

REPO = str(Path(__file__).resolve().parents[2])


def drained(spool: Spool) -> List[str]:
    received: List[str] = []
    assert spool.drain(collector(received), never)
    return received


def test_a_full_disk_loses_nothing_silently(tmp_path: Path) -> None:
    # RLIMIT_FSIZE: writes past 20 KB fail (short write, then EFBIG), as on a full disk
    code = f"""
import resource, sys
sys.path.insert(0, {REPO!r})
from alvin_integration.spool import Record, Spool, SpoolWriteError
spool = Spool({str(tmp_path / "spool")!r}, 64 * 1024 * 1024)
spool.append(Record("first", "/api/v1/lineage", b"{{}}"))  # the files exist before the limit
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
stored = failed = 0
for i in range(300):
    try:
        spool.append(Record(f"id-{{i}}", "/api/v1/lineage", b'{{"pad":"%s"}}' % (b"x" * 97)))
        stored += 1
    except SpoolWriteError:
        failed += 1
print(stored, failed, spool.failed_appends)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    stored, failed, counted = map(int, result.stdout.split())
    assert stored > 0 and failed > 0 and counted == failed, result.stderr
    spool = Spool(str(tmp_path / "spool"), 64 * 1024 * 1024)
    received = drained(spool)
    assert len(received) == stored + 1  # every append that said "stored" is there, none torn
    assert spool.corrupt_records == 0


def test_a_damaged_record_is_skipped_once_and_flush_does_not_wait_for_it(
    spool_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(spool_dir, 1024 * 1024)
    for i in range(3):
        spool.append(record(i))
    path = Path(spool.segments_dir, segment_files(spool)[0])
    data = bytearray(path.read_bytes())
    data[len(data) - 5] ^= 0x01  # flip a bit in the last record
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="alvin_integration"):
        assert drained(spool) == ["id-0", "id-1"]
        for _ in range(5):
            assert drained(spool) == []
    assert not spool.own_pending()  # a finishing task does not wait for what cannot be sent
    assert sum("damaged record" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize("damage", ["bit flip", "beyond the end", "inside a record", "garbage", "old format"])
def test_a_damaged_ack_means_nothing_acked_never_events_skipped(spool_dir: str, damage: str) -> None:
    writer = Spool(spool_dir, 1024 * 1024)
    for i in range(100):
        writer.append(record(i))
    segment = Path(writer.segments_dir, segment_files(writer)[0])
    size = segment.stat().st_size
    ack = {
        "bit flip": bytes([ack_line(size)[0] ^ 0x04]) + ack_line(size)[1:],
        "beyond the end": ack_line(size + 1000),
        "inside a record": ack_line(size - 3),
        "garbage": b"\xff" * 64,
        "old format": b"%020d\n" % size,
    }[damage]
    writer.close()
    Path(ack_of(str(segment))).write_bytes(ack)
    drainer = Spool(spool_dir, 1024 * 1024)
    assert drainer.status().pending_events == 100
    assert drained(drainer) == [f"id-{i}" for i in range(100)]
    assert segment_files(drainer) == []


def test_links_and_special_files_in_the_spool_are_never_followed(spool_dir: str, tmp_path: Path) -> None:
    spool = Spool(spool_dir, 1024 * 1024)
    spool.append(record(1))
    spool.close()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(record(666).encode())  # a valid record, outside the spool
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    segments = Path(spool.segments_dir)
    os.symlink(outside, segments / "00000000000000000001-1-aaaa.seg")
    os.symlink(victim, segments / "00000000000000000002-1-bbbb.ack")
    (segments / "00000000000000000002-1-bbbb.seg").write_bytes(record(2).encode())
    os.mkfifo(segments / "00000000000000000003-1-cccc.seg")

    done = threading.Event()
    received: List[str] = []

    def work() -> None:
        drainer = Spool(spool_dir, 1024 * 1024)
        drainer.status()
        received.extend(drained(drainer))
        drainer.append(record(3, size=2000))  # at the cap's scan too
        done.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(30)
    assert done.is_set(), "a FIFO named like a segment blocked the spool"
    assert sorted(received) == ["id-1", "id-2"]  # the linked record was never sent
    assert victim.read_text() == "keep me"  # the linked ack's target was never written


def test_the_spool_directory_is_private_and_must_be_ours(tmp_path: Path) -> None:
    spool = Spool(str(tmp_path / "new"), 1024 * 1024)
    spool.append(record(1))
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    if os.geteuid() != 0:
        pytest.skip("giving the directory to another user needs root")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, 65534, 65534)
    with pytest.raises(SpoolUnusable, match=r"belongs to another user.*ALVIN_SPOOL_DIR"):
        Spool(str(foreign), 1024 * 1024).append(record(1))
    from alvin_integration.doctor import check_spool
    from tests.support.events import settings_for

    (check,) = check_spool(settings_for("http://127.0.0.1:9", str(foreign)))
    assert check.status == "FAIL" and "belongs to another user" in check.detail
