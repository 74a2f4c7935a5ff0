"""The durable local outbox: events wait here, on disk, until the Alvin API has accepted them.

Layout of the spool directory::

    segments/<created_ns>-<pid>-<rand>.seg   records, appended by exactly one process
    segments/<same>.ack                      byte offset up to which the segment was delivered
    corrupt/                                 segments with bad records, moved aside for a human
    dead-letter.jsonl                        events the API rejected (never retried)

A process appends to its own segment, created under a temporary name, locked with ``flock`` and
only then renamed into place, so a drainer never sees a segment whose writer has not locked it.
Any process drains a segment only while holding its ``flock``: the writer's own lock keeps other
processes off a live segment, and a dead or rotated writer's segment is claimable by anyone.
Records are deleted (with their segment) only after delivery, so delivery is at least once.

A record is one line: ``R1 <crc32 hex> <created> <id> <path> <order key> <json body>\\n``. JSON never holds
a raw newline, so a torn write is a last line without one, and a flipped byte fails the checksum.
The body is kept as the exact bytes to POST, so draining neither parses nor re-serialises it.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import json
import os
import re
import secrets
import stat
import threading
import time
import zlib
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Set, Tuple

from alvin_integration.logs import get_logger
from alvin_integration.redact import redact

log = get_logger(__name__)

RECORD_MAGIC = b"R1 "
SEGMENT_SUFFIX = ".seg"
ACK_SUFFIX = ".ack"
TMP_PREFIX = ".tmp-"
# Leftovers of a process that died between two steps are cleaned only when this old.
STALE_SECONDS = 60.0
RESCAN_SECONDS = 1.0
# A drain pass claims segments of other processes in batches of at most this many (or bytes), so
# that the delivery window spans segments while the locks and memory a pass holds stay bounded.
BATCH_SEGMENTS = 64
BATCH_BYTES = 8 * 1024 * 1024
DROP_WARNING_SECONDS = 60.0  # the spool-full warning is repeated at most this often, with the count
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


class Verdict(str, Enum):
    """What a delivery attempt says about a record, as the spool needs to know it."""

    DONE = "done"  # accepted, or moved to the dead-letter file: advance past it
    STOP = "stop"  # not delivered now: keep it and stop this pass


@dataclass
class SpoolStatus:
    """What is in the spool, for ``doctor`` and ``spool status``."""

    directory: str
    segments: int = 0
    bytes: int = 0
    pending_events: int = 0
    oldest_event: Optional[float] = None
    segments_in_use: int = 0
    dead_letters: int = 0
    corrupt_files: int = 0
    max_bytes: int = 0


@dataclass
class _Claimed:
    """A segment this process holds the lock of, while it drains it."""

    path: str
    fd: int
    ack_fd: int
    acked: int
    written: int = 0  # for this process's own live segment: bytes appended so far
    draining: bool = False  # the sender is reading it: closing must wait until it is done
    sealed: bool = False


# a delivery under way in a drain pass: its segment, the offset after its record, its order key
_InFlight = Tuple[_Claimed, int, str, "Future[Verdict]"]


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _ack_line(offset: int) -> bytes:
    digits = b"%0*d" % (_ACK_WIDTH, offset)
    return digits + b" %08x\n" % zlib.crc32(digits)


_ACK_SIZE = len(_ack_line(0))


def parse_ack(raw: bytes, size: int, byte_before: Callable[[int], bytes]) -> int:
    """The delivered offset an ack file records, or 0 ("nothing acked") if it cannot be trusted.

    Trusted only when its checksum holds, it lies within the segment (``size`` bytes) and it ends a
    record (``byte_before(offset)`` is a newline): a damaged ack costs a resend, which the
    receiver dedupes, never a skipped event.
    """
    if len(raw) != _ACK_SIZE or raw[_ACK_WIDTH : _ACK_WIDTH + 1] != b" ":
        return 0
    digits = raw[:_ACK_WIDTH]
    if not digits.isdigit() or raw[_ACK_WIDTH + 1 : -1] != b"%08x" % zlib.crc32(digits):
        return 0
    offset = int(digits)
    if offset > size or (offset > 0 and byte_before(offset) != b"\n"):
        return 0
    return offset


def _byte_before(data: bytes, offset: int) -> bytes:
    return data[offset - 1 : offset]


def _read_ack(fd: int, segment_fd: int) -> int:
    return parse_ack(
        os.pread(fd, _ACK_SIZE + 1, 0),
        os.fstat(segment_fd).st_size,
        lambda offset: os.pread(segment_fd, 1, offset - 1),
    )


def _write_ack(fd: int, offset: int) -> None:
    # One small pwrite at offset 0: a killed process cannot leave it half written.
    os.pwrite(fd, _ack_line(offset), 0)


class SpoolUnusable(OSError):
    """The spool directory cannot be used safely (owned by another user, not a directory)."""


class SpoolWriteError(OSError):
    """An append did not reach the disk whole (disk full, file size limit); nothing torn is left."""


_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK  # never follow a link, never block on a FIFO


def open_regular(path: str, flags: int, mode: int = 0o600) -> int:
    """Open a spool file: no symbolic links, regular files only (a FIFO or device is refused)."""
    fd = os.open(path, flags | _OPEN_FLAGS, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_spool_directory(directory: str) -> None:
    """Create the spool directory (0700) or check that this user owns it; raises SpoolUnusable."""
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        info = os.stat(directory)
    except OSError as exc:
        raise SpoolUnusable(
            exc.errno, f"the spool directory {directory} cannot be created: {exc.strerror}"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise SpoolUnusable(errno.ENOTDIR, f"the spool directory {directory} is not a directory")
    if info.st_uid != os.geteuid():
        raise SpoolUnusable(
            errno.EPERM,
            f"the spool directory {directory} belongs to another user (uid {info.st_uid}); set "
            "ALVIN_SPOOL_DIR to a directory of the user Airflow runs as",
        )


def _settled(future: Future[Verdict], timeout: float) -> Verdict:
    """A delivery's verdict, or STOP if it has not settled within ``timeout`` (or failed)."""
    try:
        return future.result(timeout=timeout)
    except Exception:  # a timeout, or a delivery that raised: not delivered now
        return Verdict.STOP


def _close(fd: Optional[int]) -> None:
    if fd is not None and fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Spool:
    """A directory of per-process segment files with at-least-once, crash-safe delivery."""

    def __init__(self, directory: str, max_bytes: int, rotate_bytes: Optional[int] = None) -> None:
        self.directory = directory
        self.segments_dir = os.path.join(directory, "segments")
        self.corrupt_dir = os.path.join(directory, "corrupt")
        self.dead_letter_path = os.path.join(directory, "dead-letter.jsonl")
        self.max_bytes = max_bytes
        self.rotate_bytes = rotate_bytes or max(64 * 1024, min(4 * 1024 * 1024, max_bytes // 8))
        self.dropped_events = 0
        self.corrupt_records = 0
        self.failed_appends = 0  # events that could not be stored (counted, and logged once)
        self._reset_process_state()

    def _reset_process_state(self) -> None:
        self._lock = threading.RLock()
        self._pid = os.getpid()
        self._active: Optional[_Claimed] = None
        self._own_sealed: List[str] = []
        self._open_fds: Set[int] = set()
        self._total_estimate = -1
        self._last_scan = 0.0
        self._last_drop_warning = -DROP_WARNING_SECONDS
        self._foreign: Set[str] = set()

    # -- process life ------------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        """Forget the parent's segment and locks; the child starts a segment of its own."""
        for fd in list(self._open_fds):
            _close(fd)  # the parent keeps its own descriptors, and with them its locks
        self._reset_process_state()

    def close(self) -> None:
        """Release this process's segment (it stays on disk for any drainer)."""
        with self._lock:
            if self._active is not None:
                self._release(self._active)
                self._active = None

    # -- appending -----------------------------------------------------------------------------

    def append(self, record: Record) -> None:
        """Write one record to this process's segment: a local file write, never network."""
        line = record.encode()
        with self._lock:
            if os.getpid() != self._pid:
                self.after_fork_in_child()
            self._make_room(len(line))
            active = self._active_segment()
            try:
                written = os.write(active.fd, line)
            except OSError as exc:
                self.failed_appends += 1
                raise SpoolWriteError(
                    exc.errno, f"the spool could not store an event: {exc.strerror}"
                ) from None
            if written != len(line):  # a short write (disk full, size limit): undo the torn part
                self.failed_appends += 1
                self._undo_torn_write(active)
                raise SpoolWriteError(errno.ENOSPC, "the spool could not store an event whole (disk full?)")
            active.written += len(line)
            self._total_estimate += len(line)
            if active.written >= self.rotate_bytes:
                self._seal_active()

    def _undo_torn_write(self, active: _Claimed) -> None:
        try:
            os.ftruncate(active.fd, active.written)
        except OSError:  # cannot undo: start a new segment, the torn tail is then skipped for good
            self._seal_active()

    def _active_segment(self) -> _Claimed:
        if self._active is None:
            check_spool_directory(self.directory)
            os.makedirs(self.segments_dir, mode=0o700, exist_ok=True)
            try:
                self._active = self._new_segment()
            except FileNotFoundError:  # its temporary file was removed under us: once more
                self._active = self._new_segment()
        return self._active

    def _new_segment(self) -> _Claimed:
        """A segment of this process's, created and locked under a temporary name, then named."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SEGMENT_SUFFIX}"
        final = os.path.join(self.segments_dir, name)
        tmp = os.path.join(self.segments_dir, TMP_PREFIX + name)
        fd = open_regular(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND)
        self._open_fds.add(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file: nobody else can hold it yet
            os.rename(tmp, final)
        except OSError:
            self._open_fds.discard(fd)
            _close(fd)
            raise
        return _Claimed(final, fd, self._open_ack(final), 0)

    def _open_ack(self, segment_path: str) -> int:
        path = segment_path[: -len(SEGMENT_SUFFIX)] + ACK_SUFFIX
        try:
            fd = open_regular(path, os.O_RDWR | os.O_CREAT)
        except OSError:  # a link or a special file where an ack belongs: replace it, never follow it
            _unlink(path)
            fd = open_regular(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)
        self._open_fds.add(fd)
        return fd

    def _seal_active(self) -> None:
        """Close this process's segment so that it can be drained and dropped like any other."""
        if self._active is not None:
            self._own_sealed.append(self._active.path)
            self._active.sealed = True
            if not self._active.draining:
                self._release(self._active)
            self._active = None

    def _release(self, claimed: _Claimed) -> None:
        for fd in (claimed.ack_fd, claimed.fd):
            self._open_fds.discard(fd)
            _close(fd)

    # -- the size cap --------------------------------------------------------------------------

    def _make_room(self, incoming: int) -> None:
        now = time.monotonic()
        if self._total_estimate < 0 or now - self._last_scan > RESCAN_SECONDS:
            self._total_estimate = self._disk_bytes()
            self._last_scan = now
        if self._total_estimate + incoming <= self.max_bytes:
            return
        self._total_estimate = self._disk_bytes()
        if self._total_estimate + incoming <= self.max_bytes:
            return
        dropped = 0
        for path in self._segment_paths():
            if self._total_estimate + incoming <= self.max_bytes:
                break
            if self._active is not None and path == self._active.path:
                self._seal_active()
            dropped += self._drop_segment(path)
        self.dropped_events += dropped
        if dropped and now - self._last_drop_warning > DROP_WARNING_SECONDS:
            self._last_drop_warning = now
            log.warning(
                "alvin-integration spool is full (cap %.1f MB): dropped the oldest undelivered "
                "events, %d by this process so far; raise ALVIN_SPOOL_MAX_MB or check that the "
                "Alvin API is reachable (alvin-integration doctor)",
                self.max_bytes / (1024 * 1024),
                self.dropped_events,
            )

    def _drop_segment(self, path: str) -> int:
        claimed = self._claim(path)
        if claimed is None:
            return 0  # a live writer or another drainer holds it
        try:
            size = os.fstat(claimed.fd).st_size
            records, _bad, _end = self._read_records(claimed, size)
            self._delete(claimed)
            self._total_estimate -= size
            return len(records)
        finally:
            self._release(claimed)

    def _disk_bytes(self) -> int:
        total = 0
        for path in self._segment_paths():
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
        return total

    # -- draining ------------------------------------------------------------------------------

    def _segment_paths(self) -> List[str]:
        try:
            names = os.listdir(self.segments_dir)
        except FileNotFoundError:
            return []
        # Not the temporary names: a writer creates its segment there and locks it a moment later;
        # a drainer that took the unlocked file in between would find it empty and delete it.
        return [
            os.path.join(self.segments_dir, n)
            for n in sorted(names)
            if n.endswith(SEGMENT_SUFFIX) and not n.startswith(TMP_PREFIX)
        ]

    def _claim(self, path: str) -> Optional[_Claimed]:
        """Lock a segment that no live process holds; None if it is held or gone."""
        try:
            fd = open_regular(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError:  # a link, a FIFO or a device named like a segment: never read it
            self._ignore_foreign(path)
            return None
        self._open_fds.add(fd)
        try:
            if not _lock(fd):
                raise FileNotFoundError(path)
            # A drainer that finished it may have deleted it while we waited for the lock.
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise FileNotFoundError(path)
            ack_fd = self._open_ack(path)
        except FileNotFoundError:
            self._open_fds.discard(fd)
            _close(fd)
            return None
        return _Claimed(path, fd, ack_fd, _read_ack(ack_fd, fd))

    def _ignore_foreign(self, path: str) -> None:
        if path not in self._foreign:
            self._foreign.add(path)
            log.warning("alvin-integration spool: ignoring %s, which is not a regular file", path)

    def _read_records(self, claimed: _Claimed, end: int) -> Tuple[List[Tuple[int, Record]], int, int]:
        """Records after the ack offset up to ``end``: (end offset of each, record), bad count, end."""
        data = os.pread(claimed.fd, max(0, end - claimed.acked), claimed.acked)
        records: List[Tuple[int, Record]] = []
        bad = 0
        offset = claimed.acked
        for line in data.split(b"\n")[:-1]:  # a last piece without newline is a torn write
            offset += len(line) + 1
            try:
                records.append((offset, Record.decode(line)))
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                bad += 1
        return records, bad, offset

    def drain(
        self,
        submit: Callable[[Record], Future[Verdict]],
        should_stop: Callable[[], bool],
        window: int = 1,
        result_timeout: float = 300.0,
        others: bool = True,
    ) -> bool:
        """Deliver waiting records, this process's first, then (``others``) any segment nobody holds.

        ``submit`` starts delivering a record and returns a future of its ``Verdict``; up to
        ``window`` are in flight at once, across segments (a backlog is mostly segments of a few
        records each, the events of one try: one segment at a time would leave the window idle),
        and each segment's ack offset only ever advances past a contiguous run of delivered records.
        On ``STOP`` the pass ends and that record stays. Returns whether the pass ran to the end
        (nothing deliverable left that this process could claim). A delivery that has not settled
        within ``result_timeout`` seconds counts as not delivered now.
        """
        batch: List[_Claimed] = []
        size = 0
        try:
            for claimed, is_active in self._claimable(others):
                if is_active:  # drained at once: its writer goes on appending meanwhile
                    ok = self._drain_batch(batch, submit, should_stop, window, result_timeout) and (
                        self._drain_batch([claimed], submit, should_stop, window, result_timeout, True)
                    )
                    self._release_all(batch)
                    batch, size = [], 0
                    if not ok:
                        return False
                    continue
                batch.append(claimed)
                size += max(0, os.fstat(claimed.fd).st_size - claimed.acked)
                if len(batch) >= BATCH_SEGMENTS or size >= BATCH_BYTES:
                    ok = self._drain_batch(batch, submit, should_stop, window, result_timeout)
                    self._release_all(batch)
                    batch, size = [], 0
                    if not ok:
                        return False
            return self._drain_batch(batch, submit, should_stop, window, result_timeout)
        finally:
            self._release_all(batch)

    def _release_all(self, batch: List[_Claimed]) -> None:
        with self._lock:
            for claimed in batch:
                self._release(claimed)

    def _claimable(self, others: bool = True) -> Iterator[Tuple[_Claimed, bool]]:
        """This process's segments oldest first (sealed, then live), then (``others``) everyone else's."""
        with self._lock:
            own_sealed = list(self._own_sealed)
        for path in own_sealed:
            claimed = self._claim(path)
            if claimed is not None:
                yield claimed, False
        with self._lock:
            active = self._active
            if active is not None:
                active.draining = True
        if active is not None:
            try:
                yield active, True
            finally:
                with self._lock:
                    active.draining = False
                    if active.sealed:
                        self._release(active)
        if not others:
            return
        for path in self._segment_paths():
            if path in own_sealed or (active is not None and path == active.path):
                continue
            claimed = self._claim(path)
            if claimed is not None:
                yield claimed, False
        self._clean_leftovers()

    def _drain_batch(
        self,
        batch: List[_Claimed],
        submit: Callable[[Record], Future[Verdict]],
        should_stop: Callable[[], bool],
        window: int,
        result_timeout: float,
        is_active: bool = False,
    ) -> bool:
        """Deliver the records of claimed segments, ``window`` at a time across them; True if all were."""
        pending: List[Tuple[_Claimed, int, Record]] = []
        ends: Dict[str, Tuple[int, int]] = {}  # path -> (end of the last good line, damaged lines)
        for claimed in batch:
            with self._lock:
                end = claimed.written if is_active else os.fstat(claimed.fd).st_size
            records, bad, complete = self._read_records(claimed, end)
            if bad:  # said once: the ack moves past them below, so they are not read again
                self.corrupt_records += bad
                log.warning("alvin-integration spool: skipped %d damaged record(s) in %s", bad, claimed.path)
            ends[claimed.path] = (complete, bad)
            pending += [(claimed, offset, record) for offset, record in records]
        in_flight: Deque[_InFlight] = deque()
        stopped = False
        for claimed, offset, record in pending:
            # Wait for a free slot, and for any earlier record of the same run to be settled.
            while (
                in_flight
                and not stopped
                and (len(in_flight) >= window or any(entry[2] == record.order_key for entry in in_flight))
            ):
                stopped = not self._settle(in_flight.popleft(), result_timeout)
            if stopped or should_stop():
                stopped = True
                break
            in_flight.append((claimed, offset, record.order_key, submit(record)))
        while in_flight:
            if stopped:  # let it finish (bounded); it is resent later, with the same id
                _settled(in_flight.popleft()[3], result_timeout)
            else:
                stopped = not self._settle(in_flight.popleft(), result_timeout)
        if stopped:
            return False
        for claimed in batch:
            complete, bad = ends[claimed.path]
            if complete > claimed.acked:  # damaged lines after the last good record
                claimed.acked = complete
                _write_ack(claimed.ack_fd, complete)
            if is_active:
                continue
            # Everything readable is delivered: whatever follows is a torn tail of a dead writer.
            if bad:
                self._move_aside(claimed)
            else:
                self._delete(claimed)
            with self._lock:
                if claimed.path in self._own_sealed:
                    self._own_sealed.remove(claimed.path)
        return True

    @staticmethod
    def _settle(entry: _InFlight, timeout: float) -> bool:
        claimed, offset, _, future = entry
        if _settled(future, timeout) != Verdict.DONE:
            return False
        claimed.acked = offset
        _write_ack(claimed.ack_fd, offset)
        return True

    def _delete(self, claimed: _Claimed) -> None:
        _unlink(claimed.path)  # the segment first: an ack file alone is harmless
        _unlink(claimed.path[: -len(SEGMENT_SUFFIX)] + ACK_SUFFIX)

    def _move_aside(self, claimed: _Claimed) -> None:
        os.makedirs(self.corrupt_dir, exist_ok=True)
        target = os.path.join(self.corrupt_dir, os.path.basename(claimed.path))
        os.rename(claimed.path, target)
        _unlink(claimed.path[: -len(SEGMENT_SUFFIX)] + ACK_SUFFIX)
        log.warning(
            "alvin-integration spool: %s had damaged records; its good records were delivered and "
            "the file was moved to %s for inspection",
            os.path.basename(claimed.path),
            target,
        )

    def _clean_leftovers(self) -> None:
        """Remove ack files whose segment is gone and temp files of writers that died."""
        try:
            names = set(os.listdir(self.segments_dir))
        except FileNotFoundError:
            return
        now = time.time()
        for name in names:
            stale = name.startswith(TMP_PREFIX) or (
                name.endswith(ACK_SUFFIX) and name[: -len(ACK_SUFFIX)] + SEGMENT_SUFFIX not in names
            )
            if not stale:
                continue
            path = os.path.join(self.segments_dir, name)
            try:
                if now - os.stat(path).st_mtime > STALE_SECONDS:
                    _unlink(path)
            except FileNotFoundError:
                continue

    # -- accounting ----------------------------------------------------------------------------

    def own_pending(self) -> bool:
        """Whether any record this process appended is still undelivered."""
        with self._lock:
            if self._active is not None and self._active.acked < self._active.written:
                return True
            self._own_sealed = [p for p in self._own_sealed if os.path.exists(p)]
            return bool(self._own_sealed)

    def dead_letter(self, record: Record, status: Optional[int], reason: str) -> None:
        """Keep a rejected record in the dead-letter file instead of retrying it forever."""
        entry: Dict[str, Any] = {"id": record.id, "path": record.path, "status": status}
        entry.update(reason=reason[:2000], rejected_at=time.time(), body=record.json_body())
        # The reason is the API's own text, which may echo what we sent (headers included).
        line = json.dumps(redact(entry), separators=(",", ":"), ensure_ascii=False, default=str) + "\n"
        check_spool_directory(self.directory)
        try:
            if os.path.getsize(self.dead_letter_path) > self.max_bytes // 4:
                os.replace(self.dead_letter_path, self.dead_letter_path + ".1")
        except FileNotFoundError:
            pass
        fd = open_regular(self.dead_letter_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def pending_ids(self) -> Set[str]:
        """The ids of the events waiting in the spool (reads every segment; for tools)."""
        return {record.id for record in self._waiting_records(SpoolStatus(self.directory))}

    def status(self) -> SpoolStatus:
        """Count what waits in the spool (reads every segment; for tools, not the hot path)."""
        status = SpoolStatus(self.directory, max_bytes=self.max_bytes)
        for record in self._waiting_records(status):
            status.pending_events += 1
            if status.oldest_event is None or record.created < status.oldest_event:
                status.oldest_event = record.created
        for path in (self.dead_letter_path, self.dead_letter_path + ".1"):
            try:
                fd = open_regular(path, os.O_RDONLY)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as handle:
                status.dead_letters += sum(1 for _ in handle)
        try:
            status.corrupt_files = len(os.listdir(self.corrupt_dir))
        except FileNotFoundError:
            pass
        return status

    def _waiting_records(self, status: SpoolStatus) -> Iterator[Record]:
        """Every readable record after its segment's ack; counts segments and bytes into ``status``."""
        for path in self._segment_paths():
            try:
                fd = open_regular(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            except OSError:
                self._ignore_foreign(path)
                continue
            try:
                if not _lock(fd):
                    status.segments_in_use += 1
                data = os.pread(fd, os.fstat(fd).st_size, 0)
            finally:
                os.close(fd)
            acked = 0
            try:
                ack_fd = open_regular(path[: -len(SEGMENT_SUFFIX)] + ACK_SUFFIX, os.O_RDONLY)
                try:
                    raw = os.pread(ack_fd, _ACK_SIZE + 1, 0)
                    acked = parse_ack(raw, len(data), functools.partial(_byte_before, data))
                finally:
                    os.close(ack_fd)
            except OSError:
                pass
            status.segments += 1
            status.bytes += len(data)
            for line in data[acked:].split(b"\n")[:-1]:
                try:
                    yield Record.decode(line)
                except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                    continue


def describe_status(status: SpoolStatus, origin: str = "") -> List[str]:
    """Human lines for a spool status; ``origin`` says why the directory is this one."""
    age = "none waiting"
    if status.oldest_event is not None:
        age = f"oldest waiting {time.time() - status.oldest_event:.0f}s"
    return [
        f"spool directory: {status.directory}" + (f" ({origin})" if origin else ""),
        f"waiting events: {status.pending_events} in {status.segments} segment(s), "
        f"{status.bytes / 1024 / 1024:.2f} of {status.max_bytes / 1024 / 1024:.0f} MB ({age})",
        f"segments held by running processes: {status.segments_in_use}",
        f"dead letters (rejected by the API): {status.dead_letters}",
        f"corrupt segments moved aside: {status.corrupt_files}",
    ]
