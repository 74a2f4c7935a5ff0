"""Send job definitions to ``/api/v1/metadata`` only when their structure changed, in pages.

An entity is a JSON-able dict with a ``name`` (a DAG id). Its structure hash is the SHA-256 of its
canonical JSON; the hashes last handed to the spool live in ``metadata-hashes.json`` next to the
spool's segments, so any process (the scheduler, ``sync-metadata``) skips what was already sent.
The ledger is written after the spool append, under a lock, by replacing the file: a crash in
between resends a page (the receiver dedupes it), never skips one. Like every file of the spool
directory, it is opened without following a link (``spool_dir``): a link planted there is neither
read nor written through.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Sequence

from alvin_integration.logs import get_logger
from alvin_integration.model import MetadataBatch
from alvin_integration.spool_dir import SpoolDir, locked, open_regular, replace_file

log = get_logger(__name__)

PAGE_ENTITIES = 100
PAGE_BYTES = 512 * 1024

Entity = Dict[str, Any]


def structure_hash(entity: Entity) -> str:
    """The SHA-256 of an entity's canonical JSON: equal structures give equal hashes."""
    text = json.dumps(entity, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pages(
    entities: Sequence[Entity], max_entities: int = PAGE_ENTITIES, max_bytes: int = PAGE_BYTES
) -> Iterator[List[Entity]]:
    """Split entities into pages of at most ``max_entities`` and about ``max_bytes`` of JSON each."""
    page: List[Entity] = []
    size = 0
    for entity in entities:
        entity_size = len(json.dumps(entity, default=str))
        if page and (len(page) >= max_entities or size + entity_size > max_bytes):
            yield page
            page, size = [], 0
        page.append(entity)
        size += entity_size
    if page:
        yield page


class HashLedger:
    """The structure hashes last sent, by entity name, in a JSON file shared by all processes."""

    def __init__(self, directory: str) -> None:
        self.layout = SpoolDir(directory)
        self.path = self.layout.metadata_hashes

    def read(self) -> Dict[str, str]:
        """The recorded hashes; an unreadable ledger (or a link) counts as empty: everything is resent."""
        try:
            with os.fdopen(open_regular(self.path, os.O_RDONLY), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def record(self, hashes: Dict[str, str]) -> None:
        """Merge ``hashes`` into the ledger, atomically and under a lock; never raises.

        A ledger that cannot be written (a full disk) costs a resend of these pages, not an error.
        """
        try:
            self.layout.make()
            with locked(self.layout.metadata_hashes_lock):
                merged = self.read()
                merged.update(hashes)
                replace_file(self.path, json.dumps(merged, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            log.warning("alvin-integration could not record what was sent in %s: %s", self.path, exc)


@dataclass
class SyncResult:
    """What one sync did: entities handed to the spool, in how many pages, unchanged, not spooled."""

    sent: int = 0
    pages: int = 0
    unchanged: int = 0
    unsent: int = 0
    error: str = ""  # why the unsent ones could not be spooled


def sync_entities(
    entities: Sequence[Entity],
    ledger: HashLedger,
    emit: Callable[[MetadataBatch], str],
    platform_id: str,
    airflow_version: str,
    force: bool = False,
    page_size: int = PAGE_ENTITIES,
) -> SyncResult:
    """Spool the entities whose structure changed since the ledger's hash (all with ``force``).

    ``emit`` spools a batch and returns its id, as ``Emitter.emit`` does; it raises ``OSError`` when
    it cannot (the spool's ``SpoolWriteError`` on a full disk, ``SpoolUnusable``). Then the ledger
    is left as it was for that page and the rest, ``unsent`` counts them and ``error`` says why, and
    the next sync tries them again.
    """
    known = {} if force else ledger.read()
    hashes = {str(e["name"]): structure_hash(e) for e in entities}
    # In name order: the same definitions make the same pages, hence the same ids to dedupe on,
    # whatever order the host listed them in.
    changed = sorted(
        (e for e in entities if known.get(str(e["name"])) != hashes[str(e["name"])]),
        key=lambda e: str(e["name"]),
    )
    result = SyncResult(unchanged=len(entities) - len(changed))
    for page in pages(changed, max_entities=page_size):
        try:
            emit(MetadataBatch(platform_id, airflow_version, page))
        except OSError as exc:
            result.unsent, result.error = len(changed) - result.sent, exc.strerror or str(exc)
            break
        ledger.record({str(e["name"]): hashes[str(e["name"])] for e in page})
        result.sent += len(page)
        result.pages += 1
    return result
