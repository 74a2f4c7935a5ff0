"""Months of history in a few seconds: a DAG's recorded runs copied, in SQL, into earlier ones.

A real run leaves its rows in Airflow's metadata database (``dag_run``, ``task_instance`` and, from
2.10, ``task_instance_history``). Each copy is those rows again, some hours earlier: every
timestamp moved back, run ids suffixed, new surrogate keys. The columns come from the database's
own catalogue, so the same copy works on every Airflow version's schema (1.10 keys a try by its
execution date, 2.2+ by its run id, 3.x by a UUID). One statement per table: it reads the rows
as they were before it, so copies are never copied again.
"""

from __future__ import annotations

from typing import Dict, List, Tuple

from tests.support.services import execute, query

TABLES = ("dag_run", "task_instance", "task_instance_history")  # parents first
Column = Tuple[str, str, bool, bool]  # name, data type, in the primary key, has a default


def _columns(database: str, table: str) -> List[Column]:
    rows = query(
        database,
        """
        SELECT c.column_name, c.data_type, k.column_name IS NOT NULL, c.column_default IS NOT NULL
        FROM information_schema.columns c
        LEFT JOIN information_schema.table_constraints t
          ON t.table_name = c.table_name AND t.table_schema = c.table_schema
          AND t.constraint_type = 'PRIMARY KEY'
        LEFT JOIN information_schema.key_column_usage k
          ON k.constraint_name = t.constraint_name AND k.column_name = c.column_name
        WHERE c.table_name = %s AND c.table_schema = 'public'
        ORDER BY c.ordinal_position
        """,
        table,
    )
    return [(str(name), str(kind), bool(key), bool(default)) for name, kind, key, default in rows]


def _copied(column: Column, hours: int) -> str:
    """The SQL of ``column`` in copy number ``n.copy``; '' to leave it to its default."""
    name, kind, key, default = column
    if key and default and kind in ("integer", "bigint"):
        return ""  # a serial id: the database numbers the copy
    if key and kind == "uuid":
        return "gen_random_uuid()"
    if key and name in ("id", "task_instance_id") and kind.startswith("character"):
        return "gen_random_uuid()::text"
    if name == "run_id":
        return "run_id || '__copy' || n.copy"
    if kind.startswith("timestamp"):
        return f"\"{name}\" - n.copy * interval '{hours} hours'"
    return f'"{name}"'


def copy_history(database: str, dag_id: str, copies: int, hours: int = 1) -> Dict[str, int]:
    """Copy every recorded run of ``dag_id`` ``copies`` times, ``hours`` apart (the Postgres
    database ``database``, a SQLAlchemy URL); the rows added per table."""
    added: Dict[str, int] = {}
    for table in TABLES:
        columns = _columns(database, table)
        pairs = [(column[0], _copied(column, hours)) for column in columns]
        pairs = [(name, value) for name, value in pairs if value]
        if not pairs:
            continue  # this version has no such table
        names = ", ".join(f'"{name}"' for name, _ in pairs)
        values = ", ".join(value for _, value in pairs)
        added[table] = execute(
            database,
            f"INSERT INTO {table} ({names}) SELECT {values} FROM {table}, "
            "generate_series(1, %s) AS n(copy) WHERE dag_id = %s",
            copies,
            dag_id,
        )
    return added


FIRST_TASK_ID = "aaa_recorded_meanwhile"  # sorts before every task of the example DAG
FIRST_UUID = "00000000-0000-0000-0000-000000000000"


def record_try_first(database: str, dag_id: str) -> int:
    """Record one more try of ``dag_id`` whose primary key sorts before every other (as a try
    recorded while a reader pages through the table might); rows added."""
    pairs = []
    for column in _columns(database, "task_instance"):
        name, kind, key, default = column
        if key and default and kind in ("integer", "bigint"):
            continue
        if name == "task_id":
            pairs.append((name, f"'{FIRST_TASK_ID}'"))
        elif key and (kind == "uuid" or name == "id"):
            pairs.append((name, f"'{FIRST_UUID}'"))
        else:
            pairs.append((name, f'"{name}"'))
    names = ", ".join(f'"{name}"' for name, _ in pairs)
    values = ", ".join(value for _, value in pairs)
    return execute(
        database,
        f"INSERT INTO task_instance ({names}) SELECT {values} FROM task_instance WHERE dag_id = %s LIMIT 1",
        dag_id,
    )


def forget_try_first(database: str) -> int:
    """Take back ``record_try_first``'s try."""
    return execute(database, "DELETE FROM task_instance WHERE task_id = %s", FIRST_TASK_ID)
