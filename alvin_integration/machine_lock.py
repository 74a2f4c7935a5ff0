"""A lock that one process of a machine holds at a time: an ``flock`` on a file in the spool.

The kernel releases it when its holder dies, so a killed process never leaves it taken. Taking it
never waits: a process that does not get it does something else.
"""

from __future__ import annotations

import fcntl
import os
import threading
from typing import Optional

from alvin_integration.spool_dir import open_regular


class MachineLock:
    """Non-blocking, re-entrant within a process, forgotten by a forked child."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: Optional[int] = None
        self._pid = 0
        self._lock = threading.RLock()  # a process's threads ask at once

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; True if this process holds it now.

        Where no lock file can be had (a read-only or odd directory), True: acting as if alone beats
        never acting.
        """
        with self._lock:
            self._forget_if_forked()
            if self._fd is not None:
                return True
            try:
                fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
            except OSError:
                return True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False  # another process holds it
            self._fd, self._pid = fd, os.getpid()
            return True

    @property
    def held(self) -> bool:
        """Whether this process holds the lock."""
        with self._lock:
            self._forget_if_forked()
            return self._fd is not None

    def release(self) -> None:
        """Let another process take it (closing the file releases the lock)."""
        with self._lock:
            self._forget_if_forked()
            fd, self._fd = self._fd, None
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _forget_if_forked(self) -> None:
        # A forked child shares its parent's open file, and with it the lock: the child closes its
        # copy (the parent's keeps the lock) and holds nothing.
        if self._fd is not None and self._pid != os.getpid():
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass
