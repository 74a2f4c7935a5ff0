"""The spool directory's layout: the name of every file in it, and how each is opened.

Every module that keeps a file beside the spool's segments takes its path from ``SpoolDir`` and
opens it with ``open_regular`` (no symbolic link followed, regular files only), and the directory
and its subdirectories are made here, ``0700``, refused when another user owns them. The
directory trusts nothing it finds: a link, a FIFO or a device where a file belongs is never read
or written through.

Layout::

    segments/<created_ns>-<pid>-<rand>.seg   records, appended by exactly one process (spool.py)
    segments/<same>.ack                      byte offset up to which the segment was delivered
    segments/.tmp-<name>.seg                 a segment being made, locked, then renamed into place
    corrupt/                                 segments with bad records, moved aside for a human
    dead-letter.jsonl, dead-letter.jsonl.1   events the API rejected (never retried)
    delivered.ids, delivered.ids.1           ids the API confirmed (ledger.py, for reconcile)
    metadata-hashes.json, .lock              structure hashes of DAG definitions sent (metadata_sync.py)
    reported/<sha1>, reported/.looked-over   transitions a process of the machine reported (machine_once.py)
    api-health.json                          the API's health as the machine's processes saw it
    api-probe.lock, drain.lock               who probes the API after an outage, who drains the rest
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
import time
from typing import Iterator, List, Tuple

SEGMENTS = "segments"
CORRUPT = "corrupt"
REPORTED = "reported"
DEAD_LETTER = "dead-letter.jsonl"
DELIVERED_IDS = "delivered.ids"
METADATA_HASHES = "metadata-hashes.json"
API_HEALTH = "api-health.json"
PROBE_LOCK = "api-probe.lock"
DRAIN_LOCK = "drain.lock"
LOCK_SUFFIX = ".lock"
ROTATED_SUFFIX = ".1"  # the one previous file a bounded file keeps when it is rotated
SEGMENT_SUFFIX = ".seg"
ACK_SUFFIX = ".ack"
TMP_PREFIX = ".tmp-"
LOOKED_OVER = ".looked-over"  # in reported/: when its old markers were last removed

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK  # never follow a link, never block on a FIFO


class SpoolUnusable(OSError):
    """The spool directory cannot be used safely (owned by another user, not a directory)."""


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


def open_or_replace(path: str) -> int:
    """Open a file to read and write, made if missing; a link or special file there is replaced."""
    try:
        return open_regular(path, os.O_RDWR | os.O_CREAT)
    except OSError:  # a link or a special file where ours belongs: replace it, never follow it
        unlink(path)
        return open_regular(path, os.O_RDWR | os.O_CREAT | os.O_EXCL)


def replace_file(path: str, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then a rename over it."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f"{TMP_PREFIX}{name}-{secrets.token_hex(4)}")
    fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)  # a link at ``path`` is replaced, never written through
    except BaseException:
        unlink(tmp)
        raise


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the lock file ``path`` (waiting for it) while iterated."""
    fd = open_or_replace(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def unlink(path: str) -> None:
    """Remove a file if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


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


def rotated(path: str) -> str:
    """The name ``path`` is kept under once rotated."""
    return path + ROTATED_SUFFIX


def ack_of(segment_path: str) -> str:
    """The ack file of a segment."""
    return segment_path[: -len(SEGMENT_SUFFIX)] + ACK_SUFFIX


class SpoolDir:
    """The paths of one spool directory's files, and the making of its (sub)directories."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.segments = os.path.join(directory, SEGMENTS)
        self.corrupt = os.path.join(directory, CORRUPT)
        self.reported = os.path.join(directory, REPORTED)
        self.dead_letter = os.path.join(directory, DEAD_LETTER)
        self.delivered_ids = os.path.join(directory, DELIVERED_IDS)
        self.metadata_hashes = os.path.join(directory, METADATA_HASHES)
        self.metadata_hashes_lock = self.metadata_hashes + LOCK_SUFFIX
        self.api_health = os.path.join(directory, API_HEALTH)
        self.probe_lock = os.path.join(directory, PROBE_LOCK)
        self.drain_lock = os.path.join(directory, DRAIN_LOCK)

    def make(self, subdirectory: str = "") -> str:
        """Create the directory (checked: ours, 0700) and ``subdirectory`` of it (0700); its path."""
        check_spool_directory(self.directory)
        path = os.path.join(self.directory, subdirectory) if subdirectory else self.directory
        os.makedirs(path, mode=0o700, exist_ok=True)
        return path

    def segment_paths(self) -> List[str]:
        """Every segment, oldest first (not those still being made)."""
        try:
            names = os.listdir(self.segments)
        except FileNotFoundError:
            return []
        # Not the temporary names: a writer creates its segment there and locks it a moment later;
        # a drainer that took the unlocked file in between would find it empty and delete it.
        return [
            os.path.join(self.segments, n)
            for n in sorted(names)
            if n.endswith(SEGMENT_SUFFIX) and not n.startswith(TMP_PREFIX)
        ]

    def new_segment(self) -> Tuple[str, str]:
        """The temporary and final path of a new segment of this process."""
        name = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(4)}{SEGMENT_SUFFIX}"
        return os.path.join(self.segments, TMP_PREFIX + name), os.path.join(self.segments, name)

    def leftovers(self) -> List[str]:
        """Files in ``segments/`` that belong to no segment: temporary files and acks without one."""
        try:
            names = set(os.listdir(self.segments))
        except FileNotFoundError:
            return []
        return [
            os.path.join(self.segments, name)
            for name in sorted(names)
            if name.startswith(TMP_PREFIX)
            or (name.endswith(ACK_SUFFIX) and name[: -len(ACK_SUFFIX)] + SEGMENT_SUFFIX not in names)
        ]
