"""The durable local outbox: events wait here, on disk, until the Alvin API has accepted them.

A process appends to its own segment, created under a temporary name, locked with ``flock`` and
only then renamed into place, so a drainer never sees a segment whose writer has not locked it.
Any process drains a segment only while holding its ``flock``: the writer's own lock keeps other
processes off a live segment, and a dead or rotated writer's segment is claimable by anyone.
Records are deleted (with their segment) only after delivery, so delivery is at least once.

The directory's layout and how its files are opened are ``spool_dir``'s; the record and ack lines,
and the reader of a segment's records, ``spool_records``'s; what the tools count, ``spool_status``'s.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Deque, Dict, Iterator, List, Optional, Set, Tuple

from alvin_integration.logs import get_logger
from alvin_integration.redact import redact
from alvin_integration.spool_dir import (
    ACK_SUFFIX,
    CORRUPT,
    SEGMENT_SUFFIX,
    SEGMENTS,
    TMP_PREFIX,
    SpoolDir,
    SpoolUnusable,
    ack_of,
    check_spool_directory,
    open_or_replace,
    open_regular,
    rotated,
    unlink,
)
from alvin_integration.spool_records import (
    Record,
    open_segment,
    parse_ack,
    read_ack,
    read_records,
    try_lock,
    write_ack,
)
from alvin_integration.spool_status import SpoolStatus, describe_status, read_status, waiting_records

# What other modules, tools and tests have always imported from here.
__all__ = [
    "ACK_SUFFIX",
    "SEGMENT_SUFFIX",
    "STALE_SECONDS",
    "TMP_PREFIX",
    "Record",
    "Spool",
    "SpoolStatus",
    "SpoolUnusable",
    "SpoolWriteError",
    "Verdict",
    "check_spool_directory",
    "describe_status",
    "open_regular",
    "parse_ack",
]

log = get_logger(__name__)

# Leftovers of a process that died between two steps are cleaned only when this old.
STALE_SECONDS = 60.0
RESCAN_SECONDS = 1.0
# A drain pass claims segments of other processes in batches of at most this many (or bytes), so
# that the delivery window spans segments while the locks and memory a pass holds stay bounded.
BATCH_SEGMENTS = 64
BATCH_BYTES = 8 * 1024 * 1024
DROP_WARNING_SECONDS = 60.0  # the spool-full warning is repeated at most this often, with the count


class Verdict(str, Enum):
    """What a delivery attempt says about a record, as the spool needs to know it."""

    DONE = "done"  # accepted, or moved to the dead-letter file: advance past it
    STOP = "stop"  # not delivered now: keep it and stop this pass


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


class SpoolWriteError(OSError):
    """An append did not reach the disk whole (disk full, file size limit); nothing torn is left."""


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


class Spool:
    """A directory of per-process segment files with at-least-once, crash-safe delivery."""

    def __init__(self, directory: str, max_bytes: int, rotate_bytes: Optional[int] = None) -> None:
        self.directory = directory
        self.layout = SpoolDir(directory)
        self.segments_dir = self.layout.segments
        self.corrupt_dir = self.layout.corrupt
        self.dead_letter_path = self.layout.dead_letter
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
            self.layout.make(SEGMENTS)
            try:
                self._active = self._new_segment()
            except FileNotFoundError:  # its temporary file was removed under us: once more
                self._active = self._new_segment()
        return self._active

    def _new_segment(self) -> _Claimed:
        """A segment of this process's, created and locked under a temporary name, then named."""
        tmp, final = self.layout.new_segment()
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
        fd = open_or_replace(ack_of(segment_path))
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
        for path in self.layout.segment_paths():
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
            records, _bad, _end = read_records(claimed.fd, claimed.acked, size)
            self._delete(claimed)
            self._total_estimate -= size
            return len(records)
        finally:
            self._release(claimed)

    def _disk_bytes(self) -> int:
        total = 0
        for path in self.layout.segment_paths():
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(info.st_mode):
                total += info.st_size
        return total

    # -- draining ------------------------------------------------------------------------------

    def _claim(self, path: str) -> Optional[_Claimed]:
        """Lock a segment that no live process holds; None if it is held or gone."""
        fd = open_segment(path, self._ignore_foreign)
        if fd is None:
            return None
        self._open_fds.add(fd)
        try:
            if not try_lock(fd):
                raise FileNotFoundError(path)
            # A drainer that finished it may have deleted it while we waited for the lock.
            if os.fstat(fd).st_ino != os.stat(path).st_ino:
                raise FileNotFoundError(path)
            ack_fd = self._open_ack(path)
        except FileNotFoundError:
            self._open_fds.discard(fd)
            _close(fd)
            return None
        return _Claimed(path, fd, ack_fd, read_ack(ack_fd, fd))

    def _ignore_foreign(self, path: str) -> None:
        if path not in self._foreign:
            self._foreign.add(path)
            log.warning("alvin-integration spool: ignoring %s, which is not a regular file", path)

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
        for path in self.layout.segment_paths():
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
            records, bad, complete = read_records(claimed.fd, claimed.acked, end)
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
                write_ack(claimed.ack_fd, complete)
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
        write_ack(claimed.ack_fd, offset)
        return True

    def _delete(self, claimed: _Claimed) -> None:
        unlink(claimed.path)  # the segment first: an ack file alone is harmless
        unlink(ack_of(claimed.path))

    def _move_aside(self, claimed: _Claimed) -> None:
        target = os.path.join(self.layout.make(CORRUPT), os.path.basename(claimed.path))
        os.rename(claimed.path, target)
        unlink(ack_of(claimed.path))
        log.warning(
            "alvin-integration spool: %s had damaged records; its good records were delivered and "
            "the file was moved to %s for inspection",
            os.path.basename(claimed.path),
            target,
        )

    def _clean_leftovers(self) -> None:
        """Remove ack files whose segment is gone and temp files of writers that died."""
        now = time.time()
        for path in self.layout.leftovers():
            try:
                if now - os.stat(path).st_mtime > STALE_SECONDS:
                    unlink(path)
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
        self.layout.make()
        try:
            if os.path.getsize(self.dead_letter_path) > self.max_bytes // 4:
                os.replace(self.dead_letter_path, rotated(self.dead_letter_path))
        except FileNotFoundError:
            pass
        fd = open_regular(self.dead_letter_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def pending_ids(self) -> Set[str]:
        """The ids of the events waiting in the spool (reads every segment; for tools)."""
        status = SpoolStatus(self.directory)
        return {record.id for record in waiting_records(self.layout, status, self._ignore_foreign)}

    def status(self) -> SpoolStatus:
        """Count what waits in the spool (reads every segment; for tools, not the hot path)."""
        return read_status(self.layout, self.max_bytes, self._ignore_foreign)
