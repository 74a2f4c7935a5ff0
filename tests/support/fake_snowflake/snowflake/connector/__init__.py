"""A stand-in for ``snowflake.connector``, for Airflow 1.10's contrib ``SnowflakeHook`` in tests.

Snowflake cannot run here and the real connector connects to ``<account>.snowflakecomputing.com``.
This one keeps the part of its interface the hook and ``DbApiHook.run`` use: ``connect``, a
connection's ``cursor``/``autocommit``/``commit``/``close``, a cursor's ``execute`` that sets
``sfqid`` as the real cursor does, and a failure for SQL that names ``FAIL_HERE``.
"""

from __future__ import annotations

import itertools
from typing import Any, Dict, List, Optional

_query_numbers = itertools.count(1)
connected: List[Dict[str, Any]] = []  # the parameters of every connect(), for the tests to read


class ProgrammingError(Exception):
    """What the real connector raises for SQL Snowflake refuses."""


class SnowflakeCursor:
    """A cursor whose ``execute`` gives each statement a query id, as Snowflake does."""

    def __init__(self) -> None:
        self.sfqid: Optional[str] = None
        self.rowcount = 0

    def execute(self, command: str, params: Any = None) -> SnowflakeCursor:
        """Run nothing; give the statement its query id (also when Snowflake refuses it)."""
        self.sfqid = f"01fake00-0000-0000-0000-{next(_query_numbers):012d}"
        if "FAIL_HERE" in command:
            raise ProgrammingError(f"SQL compilation error ({self.sfqid})")
        return self

    def fetchall(self) -> List[Any]:
        """No rows."""
        return []

    def close(self) -> None:
        """Nothing to release."""


class SnowflakeConnection:
    """A connection that makes cursors and commits nothing."""

    def cursor(self) -> SnowflakeCursor:
        """A new cursor."""
        return SnowflakeCursor()

    def autocommit(self, mode: bool) -> None:
        """Accept the mode."""

    def commit(self) -> None:
        """Nothing to commit."""

    def close(self) -> None:
        """Nothing to close."""


def connect(**params: Any) -> SnowflakeConnection:
    """A connection; the parameters are kept in ``connected``."""
    connected.append(params)
    return SnowflakeConnection()
