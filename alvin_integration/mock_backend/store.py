"""SQLite storage of the mock Alvin API: events deduped on their Idempotency-Key."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from typing import Any, Dict, List, Optional

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT UNIQUE NOT NULL,
    received_at REAL NOT NULL,
    event_type TEXT,
    event_time TEXT,
    job_namespace TEXT,
    job_name TEXT,
    run_id TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_job ON events (job_name);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id);
CREATE TABLE IF NOT EXISTS metadata (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT UNIQUE,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT,
    path TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    status INTEGER NOT NULL,
    user_agent TEXT
);
"""


class Store:
    """Thread-safe access to one SQLite file (or memory)."""

    def __init__(self, path: str = ":memory:") -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def record_delivery(
        self, key: Optional[str], path: str, body: bytes, status: int, user_agent: Optional[str] = None
    ) -> None:
        """Log every request received, duplicates included (tests check resends with it)."""
        with self._lock:
            self._insert_delivery(key, path, body, status, user_agent)

    def _insert_delivery(
        self, key: Optional[str], path: str, body: bytes, status: int, user_agent: Optional[str] = None
    ) -> None:
        self._db.execute(
            "INSERT INTO deliveries (idempotency_key, path, body_sha256, status, user_agent) "
            "VALUES (?,?,?,?,?)",
            (key, path, hashlib.sha256(body).hexdigest(), status, user_agent),
        )

    def add_event(
        self, key: str, event: Dict[str, Any], raw: bytes, user_agent: Optional[str] = None
    ) -> bool:
        """Store an event and log its delivery in one transaction; False if its key was seen."""
        job = event.get("job") or {}
        run = event.get("run") or {}
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._insert_delivery(key, "/api/v1/lineage", raw, 200, user_agent)
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO events (idempotency_key, received_at, event_type, event_time, "
                "job_namespace, job_name, run_id, body) VALUES (?,?,?,?,?,?,?,?)",
                (
                    key,
                    time.time(),
                    event.get("eventType"),
                    event.get("eventTime"),
                    job.get("namespace"),
                    job.get("name"),
                    run.get("runId"),
                    raw.decode("utf-8"),
                ),
            )
            return cursor.rowcount == 1

    def add_metadata(self, key: Optional[str], payload: Dict[str, Any]) -> bool:
        """Store a metadata payload; False if its key was seen before."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO metadata (idempotency_key, received_at, body) VALUES (?,?,?)",
                (key, time.time(), json.dumps(payload)),
            )
            return cursor.rowcount == 1

    def events(
        self,
        job_name: Optional[str] = None,
        run_id: Optional[str] = None,
        event_type: Optional[str] = None,
        limit: int = 10_000,
    ) -> List[Dict[str, Any]]:
        """Stored events in arrival order, filtered."""
        where, args = [], []  # type: List[str], List[Any]
        for column, value in (
            ("job_name", job_name),
            ("run_id", run_id),
            ("event_type", event_type),
        ):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        sql = "SELECT idempotency_key, received_at, body FROM events"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [
            {
                "idempotency_key": r["idempotency_key"],
                "received_at": r["received_at"],
                "event": json.loads(r["body"]),
            }
            for r in rows
        ]

    def metadata(self) -> List[Dict[str, Any]]:
        """Stored metadata payloads in arrival order."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM metadata ORDER BY seq").fetchall()
        return [json.loads(r["body"]) for r in rows]

    def deliveries(self) -> List[Dict[str, Any]]:
        """Every request received, in order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT idempotency_key, path, body_sha256, status, user_agent FROM deliveries ORDER BY seq"
            ).fetchall()
        return [dict(r) for r in rows]

    def rows_after(self, seq: int, limit: int = 5_000) -> List[Dict[str, Any]]:
        """Stored events with a sequence number above ``seq``, oldest first, as stored (body unparsed)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, received_at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
            ).fetchall()
        return [dict(r) for r in rows]

    def event_row(self, seq: int) -> Optional[Dict[str, Any]]:
        """One stored event by its sequence number (body unparsed), None if there is none."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, idempotency_key, received_at, body FROM events WHERE seq = ?", (seq,)
            ).fetchone()
        return dict(row) if row is not None else None

    def count(self) -> int:
        """How many (deduplicated) events are stored."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])
