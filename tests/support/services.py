"""The machine's own PostgreSQL and Redis (started before every session and CI run), per test.

Each test gets a database of its own, created and dropped here, and a Celery queue of its own on
the shared Redis, so matrix rows running side by side never see each other's tasks.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from typing import Any, Iterator, List, Optional, Tuple
from urllib.parse import urlsplit

POSTGRES = os.environ.get("ALVIN_TEST_POSTGRES", "postgres@127.0.0.1:5432")  # trust auth
REDIS = os.environ.get("ALVIN_TEST_REDIS", "127.0.0.1:6379")


def reachable(address: str) -> bool:
    """Whether something listens at ``host:port`` (the user@ part ignored)."""
    host, port = address.rsplit("@", 1)[-1].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return True
    except OSError:
        return False


def _admin() -> Any:
    import psycopg2

    user, hostport = POSTGRES.split("@", 1)
    host, port = hostport.rsplit(":", 1)
    connection = psycopg2.connect(host=host, port=int(port), user=user, dbname="postgres")
    connection.autocommit = True
    return connection


@contextlib.contextmanager
def postgres_database(prefix: str = "alvin_test", template: Optional[str] = None) -> Iterator[str]:
    """A new database, empty or a copy of the database ``template`` (a URL of this module's); yields
    its SQLAlchemy URL (psycopg2) and drops it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = _admin()
    try:
        with admin.cursor() as cursor:
            copy = f' TEMPLATE "{template.rsplit("/", 1)[1]}"' if template else ""
            cursor.execute(f'CREATE DATABASE "{name}"{copy}')
        yield f"postgresql+psycopg2://{POSTGRES}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _connect(database: str) -> Any:
    import psycopg2

    url = urlsplit(database.replace("postgresql+psycopg2://", "postgresql://"))
    return psycopg2.connect(
        host=url.hostname, port=url.port or 5432, user=url.username, dbname=url.path.lstrip("/")
    )


def query(database: str, sql: str, *params: Any) -> List[Tuple[Any, ...]]:
    """Rows of one query in the database whose SQLAlchemy URL ``postgres_database`` gave."""
    connection = _connect(database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    finally:
        connection.close()


def execute(database: str, sql: str, *params: Any) -> int:
    """Run one statement in its own committed transaction; the rows it touched."""
    connection = _connect(database)
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(sql, params)
            return int(cursor.rowcount)
    finally:
        connection.close()


def redis_url(database: int = 0) -> str:
    """The broker URL of the machine's Redis."""
    return f"redis://:@{REDIS}/{database}"


def celery_queue() -> str:
    """A queue name of this test's own (Airflow's default queue; its worker consumes only it)."""
    return f"alvin-{uuid.uuid4().hex[:10]}"
