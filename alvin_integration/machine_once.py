"""Transitions one process of a machine reported, so that the machine's other processes do not.

Airflow 1.10 moves DAG runs on in a new process for each DAG file, every scheduler loop: each of
them sees a running DAG run as running, and would report its START again. A marker file per
transition (``<spool>/reported/<sha1 of its key>``, made with ``O_EXCL``) says it was reported.
A DAG run's end removes its START's marker; markers older than ``MAX_AGE_SECONDS`` (runs that
ended where nobody saw it) are removed when the directory is looked over, at most once an hour.
A marker that cannot be made or read counts as not there: reporting twice is harmless (the event
id is the same, the receiver dedupes), missing a report is not.
"""

from __future__ import annotations

import hashlib
import os
import time

from alvin_integration.logs import get_logger
from alvin_integration.spool_dir import LOOKED_OVER, REPORTED, SpoolDir, open_regular

log = get_logger(__name__)

MAX_AGE_SECONDS = 14 * 86400.0
LOOK_OVER_SECONDS = 3600.0


class MachineOnce:
    """A set of keys shared by the processes of a machine, in a directory beside the spool."""

    def __init__(self, spool_dir: str) -> None:
        self.layout = SpoolDir(spool_dir)
        self.directory = self.layout.reported

    def _path(self, key: str) -> str:
        return os.path.join(self.directory, hashlib.sha1(key.encode("utf-8")).hexdigest())

    def first(self, key: str) -> bool:
        """True the first time any process of this machine asks for ``key`` (and on any error)."""
        try:
            self.layout.make(REPORTED)
        except OSError as exc:  # a file in its place, a read-only disk, another user's spool
            log.debug("alvin-integration cannot keep %s: %s", self.directory, exc)
            return True
        try:
            fd = open_regular(self._path(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        except FileExistsError:
            return False
        except OSError as exc:
            log.debug("alvin-integration could not mark %r as reported: %s", key, exc)
            return True
        os.close(fd)
        self._look_over()
        return True

    def forget(self, key: str) -> None:
        """Remove ``key`` (its transition is over); never raises."""
        try:
            os.unlink(self._path(key))
        except OSError:
            pass

    def _look_over(self) -> None:
        """Remove markers older than ``MAX_AGE_SECONDS``, at most once an hour for the machine."""
        stamp = os.path.join(self.directory, LOOKED_OVER)
        now = time.time()
        try:
            if now - os.stat(stamp).st_mtime < LOOK_OVER_SECONDS:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        try:
            os.close(open_regular(stamp, os.O_WRONLY | os.O_CREAT))
            os.utime(stamp)
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    if entry.name != LOOKED_OVER and now - entry.stat().st_mtime > MAX_AGE_SECONDS:
                        os.unlink(entry.path)
        except OSError as exc:
            log.debug("alvin-integration could not look over %s: %s", self.directory, exc)
