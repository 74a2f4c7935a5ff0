"""Airflow 1.10: the Snowflake query ids a try ran, which 1.10's contrib ``SnowflakeHook`` keeps none of.

The providers' ``SnowflakeHook`` (2.x, 3.x) records ``query_ids`` itself and ``read.py`` reads them.
1.10's contrib hook runs ``DbApiHook.run``, whose cursors are gone when it returns, so at a try's
START we wrap the hook's ``get_conn``: the connection it returns is the connector's, untouched,
except that each cursor it makes records its ``sfqid`` after ``execute`` (also one that raised).
Nothing here connects to Snowflake or reads a credential; the ids are read at COMPLETE or FAIL.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, List

from alvin_integration.producers.airflow.wrap import wrap_after

CONTRIB_HOOK_MODULE = "airflow.contrib.hooks.snowflake_hook"
MAX_QUERY_IDS = 1000  # a try's event stays bounded; the first ones are kept

_recorded: List[str] = []


def watch_snowflake_queries() -> None:
    """At a try's START: forget the last try's ids; wrap the contrib hook if the DAG imported it."""
    del _recorded[:]
    hook = getattr(sys.modules.get(CONTRIB_HOOK_MODULE), "SnowflakeHook", None)
    if hook is not None and "run" not in vars(hook):  # a hook with its own ``run`` keeps its own ids
        wrap_after(hook, "get_conn", "recording Snowflake query ids", _after_get_conn)


def recorded_query_ids() -> List[str]:
    """The query ids this process's cursors ran since the try's START (1.10's contrib hook only)."""
    return list(_recorded)


def _after_get_conn(connection: Any, *args: Any, **kwargs: Any) -> None:
    wrap_after(connection, "cursor", "recording Snowflake query ids", _after_cursor)


def _after_cursor(cursor: Any, *args: Any, **kwargs: Any) -> None:
    # on_error: a statement Snowflake refused has a query id too, the one a user looks for
    record = functools.partial(_record, cursor)
    wrap_after(cursor, "execute", "recording a Snowflake query id", record, on_error=True)


def _record(cursor: Any, *args: Any, **kwargs: Any) -> None:
    query_id = getattr(cursor, "sfqid", None)
    if isinstance(query_id, str) and query_id and len(_recorded) < MAX_QUERY_IDS:
        _recorded.append(query_id)
