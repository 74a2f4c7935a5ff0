"""A backlog as ended task processes leave it: one spool segment per try, its START and COMPLETE."""

from __future__ import annotations

import json
import os
from typing import Set

from alvin_integration.model import COMPLETE, START
from alvin_integration.spool import Record, Spool
from tests.support.events import task_event

MB = 1024 * 1024
LINEAGE = "/api/v1/lineage"


def leave_tries(spool_dir: str, tries: int, first: int = 0, events: bool = False) -> Set[str]:
    """The segments ``tries`` ended task processes leave: each a try's START and COMPLETE, unlocked;
    the record ids.

    A segment is its writer's while the writer holds its ``flock`` and anyone's once the writer
    is gone; a spool closed here leaves it as an ended process does, without a fork per try (a
    fork and wait cost 15 ms each here: 1,500 tries took 26 s). ``events``: real RunEvents as
    bodies (what an API validates), else ``{}``.
    """
    os.makedirs(spool_dir, mode=0o700, exist_ok=True)
    ids = set()
    for number in range(first, first + tries):
        if events:
            made = [task_event(number, kind) for kind in (START, COMPLETE)]
            records = [
                Record(e.event_id, LINEAGE, json.dumps(e.to_dict()).encode(), order_key=e.run.run_id)
                for e in made
            ]
        else:
            records = [
                Record(f"try-{number}-{kind}", LINEAGE, b"{}", order_key=f"run-{number}")
                for kind in ("start", "complete")
            ]
        ids |= {record.id for record in records}
        spool = Spool(spool_dir, 64 * MB)  # a segment of its own, as each try's process has
        try:
            for record in records:
                spool.append(record)
        finally:
            spool.close()  # its lock let go, as the process's end lets it go
    return ids
