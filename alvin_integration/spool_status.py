"""What the tools read in a spool (``doctor``, ``spool status``, ``reconcile``): counts, never a claim.

It reads segments through the drain's own reader (``spool_records``) and takes no segment's lock
for longer than it takes to see whether a running process holds it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Iterator, List, Optional

from alvin_integration.spool_dir import SpoolDir, open_regular, rotated
from alvin_integration.spool_records import Record, open_segment, read_ack_of, read_records, try_lock


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


def waiting_records(
    layout: SpoolDir, status: SpoolStatus, on_foreign: Callable[[str], None]
) -> Iterator[Record]:
    """Every readable record after its segment's ack; counts segments and bytes into ``status``."""
    for path in layout.segment_paths():
        fd = open_segment(path, on_foreign)
        if fd is None:
            continue
        try:
            if not try_lock(fd):  # released with the descriptor, at once
                status.segments_in_use += 1
            size = os.fstat(fd).st_size
            records, _bad, _end = read_records(fd, read_ack_of(path, fd), size)
        finally:
            os.close(fd)
        status.segments += 1
        status.bytes += size
        yield from (record for _offset, record in records)


def read_status(layout: SpoolDir, max_bytes: int, on_foreign: Callable[[str], None]) -> SpoolStatus:
    """Count what waits in the spool (reads every segment; for tools, not the hot path)."""
    status = SpoolStatus(layout.directory, max_bytes=max_bytes)
    for record in waiting_records(layout, status, on_foreign):
        status.pending_events += 1
        if status.oldest_event is None or record.created < status.oldest_event:
            status.oldest_event = record.created
    for path in (layout.dead_letter, rotated(layout.dead_letter)):
        try:
            fd = open_regular(path, os.O_RDONLY)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as handle:
            status.dead_letters += sum(1 for _ in handle)
    try:
        status.corrupt_files = len(os.listdir(layout.corrupt))
    except FileNotFoundError:
        pass
    return status


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
