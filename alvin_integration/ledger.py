"""The ids of events the Alvin API confirmed from this machine, kept beside the spool.

``alvin-integration reconcile`` sends only what this ledger (and the spool) does not hold, so a
second reconcile sends nothing. Appends are single small ``O_APPEND`` writes, atomic between
processes; the file is rotated once at ``max_bytes`` (the previous one is kept and read), so the
ledger stays bounded. Losing an entry costs a harmless resend: ids are deterministic and the
receiver dedupes on them.
"""

from __future__ import annotations

import os
from typing import Set

from alvin_integration.logs import get_logger
from alvin_integration.spool_dir import SpoolDir, open_regular, rotated

log = get_logger()
DEFAULT_MAX_BYTES = 4 * 1024 * 1024  # about 100,000 ids in each of the two files


class DeliveredLedger:
    """Event ids the API confirmed (delivered, or refused for good), in ``<directory>/delivered.ids``."""

    def __init__(self, directory: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path = SpoolDir(directory).delivered_ids
        self.max_bytes = max_bytes

    def record(self, event_id: str) -> None:
        """Remember one confirmed id; never raises (a lost entry costs one resend, not an event)."""
        try:
            fd = open_regular(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(fd, event_id.encode("ascii", "replace") + b"\n")
                rotate = os.fstat(fd).st_size > self.max_bytes
            finally:
                os.close(fd)
            if rotate:
                os.replace(self.path, rotated(self.path))
        except OSError as exc:
            log.debug("alvin-integration: could not record delivered event %s: %s", event_id, exc)

    def ids(self) -> Set[str]:
        """Every id recorded (this file and the one rotated before it)."""
        found: Set[str] = set()
        for path in (rotated(self.path), self.path):
            try:
                fd = open_regular(path, os.O_RDONLY)
            except OSError:
                continue
            with os.fdopen(fd, "rb") as handle:
                found.update(line.strip().decode("ascii", "replace") for line in handle if line.strip())
        return found
