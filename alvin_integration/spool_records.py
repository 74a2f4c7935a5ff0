"""The spool's two line formats, the record and the ack, and the one reader of a segment's records.

A record is one line: ``R1 <crc32 hex> <created> <id> <path> <order key> <json body>\\n``. JSON never
holds a raw newline, so a torn write is a last line without one, and a flipped byte fails the
checksum. The body is kept as the exact bytes to POST, so draining neither parses nor re-serialises
it. An ack is one line, ``<offset, 20 digits> <crc32 hex>\\n``: how far its segment was delivered.
The drain and ``spool status`` read a segment through the same functions here.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional, Tuple

from alvin_integration.spool_dir import ack_of, open_regular

RECORD_MAGIC = b"R1 "
_ACK_WIDTH = 20
_TOKEN = re.compile(r"^[^\s]+$")


@dataclass(frozen=True)
class Record:
    """One event waiting for delivery: its dedupe id, the API path it goes to, and its JSON body."""

    id: str
    path: str
    body: bytes
    created: float = field(default_factory=time.time)
    order_key: str = "-"  # records with one key (one run) are delivered one after the other

    def encode(self) -> bytes:
        """The record as one checksummed line: ``R1 <crc> <created> <id> <path> <key> <body>``."""
        tokens = (self.id, self.path, self.order_key)
        if not all(_TOKEN.match(token) for token in tokens) or b"\n" in self.body:
            msg = "a spool record's id, path and order key must be single tokens and its body one line"
            raise ValueError(msg)
        head = " ".join(tokens).encode("utf-8")
        rest = b"%.6f %s %s" % (self.created, head, self.body)
        return RECORD_MAGIC + b"%08x " % zlib.crc32(rest) + rest + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> Record:
        """Parse one line (without its newline); raises ValueError when it is damaged."""
        if not line.startswith(RECORD_MAGIC) or len(line) < 13 or line[11:12] != b" ":
            raise ValueError("not a spool record")
        rest = line[12:]
        if int(line[3:11], 16) != zlib.crc32(rest):
            raise ValueError("checksum mismatch")
        created, record_id, path, key, body = rest.split(b" ", 4)
        return cls(record_id.decode(), path.decode(), body, float(created), key.decode())

    def json_body(self) -> Any:
        """The body parsed (for tools and the dead-letter file, not the delivery path)."""
        return json.loads(self.body.decode("utf-8"))


def ack_line(offset: int) -> bytes:
    """The ack line saying a segment was delivered up to ``offset``."""
    digits = b"%0*d" % (_ACK_WIDTH, offset)
    return digits + b" %08x\n" % zlib.crc32(digits)


ACK_SIZE = len(ack_line(0))


def parse_ack(raw: bytes, size: int, byte_before: Callable[[int], bytes]) -> int:
    """The delivered offset an ack file records, or 0 ("nothing acked") if it cannot be trusted.

    Trusted only when its checksum holds, it lies within the segment (``size`` bytes) and it ends a
    record (``byte_before(offset)`` is a newline): a damaged ack costs a resend, which the
    receiver dedupes, never a skipped event.
    """
    if len(raw) != ACK_SIZE or raw[_ACK_WIDTH : _ACK_WIDTH + 1] != b" ":
        return 0
    digits = raw[:_ACK_WIDTH]
    if not digits.isdigit() or raw[_ACK_WIDTH + 1 : -1] != b"%08x" % zlib.crc32(digits):
        return 0
    offset = int(digits)
    if offset > size or (offset > 0 and byte_before(offset) != b"\n"):
        return 0
    return offset


def read_ack(fd: int, segment_fd: int) -> int:
    """The trusted delivered offset of the segment open as ``segment_fd``, from its open ack file."""
    return parse_ack(
        os.pread(fd, ACK_SIZE + 1, 0),
        os.fstat(segment_fd).st_size,
        lambda offset: os.pread(segment_fd, 1, offset - 1),
    )


def read_ack_of(segment_path: str, segment_fd: int) -> int:
    """The trusted delivered offset of a segment, its ack file only read (0 if there is none)."""
    try:
        fd = open_regular(ack_of(segment_path), os.O_RDONLY)
    except OSError:
        return 0
    try:
        return read_ack(fd, segment_fd)
    finally:
        os.close(fd)


def write_ack(fd: int, offset: int) -> None:
    """Record in an open ack file that its segment was delivered up to ``offset``."""
    # One small pwrite at offset 0: a killed process cannot leave it half written.
    os.pwrite(fd, ack_line(offset), 0)


def try_lock(fd: int) -> bool:
    """Take a segment's ``flock`` without waiting; False if another process holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def open_segment(path: str, on_foreign: Callable[[str], None]) -> Optional[int]:
    """A segment open for reading; None if it is gone, or is no regular file (told ``on_foreign``)."""
    try:
        return open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:  # a link, a FIFO or a device named like a segment: never read it
        on_foreign(path)
        return None


def read_records(fd: int, start: int, end: int) -> Tuple[List[Tuple[int, Record]], int, int]:
    """The records between ``start`` and ``end``: (end offset of each, record), bad count, end.

    The end returned is that of the last whole line: a last piece without newline is a torn write.
    """
    data = os.pread(fd, max(0, end - start), start)
    records: List[Tuple[int, Record]] = []
    bad = 0
    offset = start
    for line in data.split(b"\n")[:-1]:
        offset += len(line) + 1
        try:
            records.append((offset, Record.decode(line)))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            bad += 1
    return records, bad, offset
