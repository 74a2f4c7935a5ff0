"""What Airflow's metadata database says ran: task tries and DAG runs, read through its own models.

The one place where reading that history differs by version: the session helper (1.10's
``airflow.utils.db``), the try number (before 2.10 ``_try_number``, see ``tries``), earlier tries
(``TaskInstanceHistory``, 2.10+ and 3.x; older versions keep only a task's latest try) and how a
try names its DAG run (``run_id`` from 2.2, the execution date before). Rows are copied into plain
objects, so nothing outlives the session.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.compat import current_try

TRY_FIELDS = (
    "dag_id",
    "task_id",
    "run_id",
    "map_index",
    "state",
    "start_date",
    "end_date",
    "duration",
    "pool",
    "operator",
    "max_tries",
    "execution_date",
)
PAGE_SIZE = 500  # tries read per page, each page in a session of its own
RUN_FIELDS = (
    "dag_id",
    "run_id",
    "run_type",
    "state",
    "start_date",
    "end_date",
    "external_trigger",
    "data_interval_start",
    "data_interval_end",
    "logical_date",
    "execution_date",
    "run_after",
)


def _copy(row: Any, fields: Sequence[str]) -> SimpleNamespace:
    values = {}
    for name in fields:
        try:
            values[name] = getattr(row, name, None)
        except Exception:  # a column this version does not have, or a property that needs more
            values[name] = None
    return SimpleNamespace(**values)


def _session() -> Any:
    if version_compat.AIRFLOW_V_2_PLUS:
        from airflow.utils.session import create_session
    else:
        from airflow.utils.db import create_session  # type: ignore[no-redef]
    return create_session()


def _models() -> Tuple[Any, Any, Optional[Any]]:
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance

    history = None
    if version_compat.AIRFLOW_V_2_10_PLUS:
        from airflow.models.taskinstancehistory import TaskInstanceHistory

        history = TaskInstanceHistory
    return DagRun, TaskInstance, history


def _recent(
    query: Any, model: Any, since: datetime, dag_ids: Sequence[str], until: Optional[datetime] = None
) -> Any:
    query = query.filter((model.start_date >= since) | (model.end_date >= since))
    if until is not None:  # what started later may still have its live events on the way
        query = query.filter(model.start_date < until)
    if dag_ids:
        query = query.filter(model.dag_id.in_(list(dag_ids)))
    return query


def dag_runs_since(
    since: datetime, dag_ids: Sequence[str] = (), until: Optional[datetime] = None
) -> List[SimpleNamespace]:
    """Every DAG run that started or ended since ``since`` (UTC) and started before ``until``."""
    dag_run_model, _, _ = _models()
    with _session() as session:
        rows = _recent(session.query(dag_run_model), dag_run_model, since, dag_ids, until).all()
        return [_copy(row, RUN_FIELDS) for row in rows]


def task_tries_since(
    since: datetime, dag_ids: Sequence[str] = (), until: Optional[datetime] = None
) -> List[Tuple[SimpleNamespace, int]]:
    """Every task try that started or ended since ``since`` and started before ``until``: (the
    try's row, its try number)."""
    return [found for page in task_try_pages(since, dag_ids, until) for found in page]


def task_try_pages(
    since: datetime, dag_ids: Sequence[str] = (), until: Optional[datetime] = None, page_size: int = PAGE_SIZE
) -> Iterator[List[Tuple[SimpleNamespace, int]]]:
    """The tries of ``task_tries_since``, ``page_size`` at a time: each page read in a short
    session of its own, in primary-key order after the last page's key (keyset paging: a page
    costs the same at the end of months of history as at its start, and a try recorded meanwhile
    neither shifts a page nor comes twice), so that a long history never holds the database."""
    _, ti_model, history_model = _models()
    for model, latest in ((ti_model, True), (history_model, False)):  # the latest tries, then earlier ones
        if model is None:
            continue
        key = _primary_key(model)
        after: Optional[Tuple[Any, ...]] = None
        while True:
            with _session() as session:
                query = _recent(session.query(model), model, since, dag_ids, until)
                if after is not None:
                    query = query.filter(_after(key, after))
                rows = query.order_by(*key).limit(page_size).all()
                page = [
                    (_copy(row, TRY_FIELDS), current_try(row) if latest else int(row.try_number))
                    for row in rows
                ]
                after = tuple(getattr(rows[-1], column.key) for column in key) if rows else None
            if page:
                yield page
            if len(rows) < page_size:
                break


def _primary_key(model: Any) -> List[Any]:
    """The model's primary-key attributes, in the table's order (what a page is ordered by)."""
    mapper = model.__mapper__
    return [
        getattr(model, mapper.get_property_by_column(column).key) for column in model.__table__.primary_key
    ]


def _after(key: List[Any], values: Tuple[Any, ...]) -> Any:
    """``key > values`` in lexical order, spelled with AND and OR: row-value comparison is missing
    from some databases Airflow runs on."""
    from sqlalchemy import and_, or_

    return or_(
        *(
            and_(*(column == value for column, value in zip(key[:i], values[:i])), key[i] > values[i])
            for i in range(len(key))
        )
    )


def dag_run_key(row: Any) -> Tuple[str, str]:
    """How a try names its DAG run on this version: (dag_id, run_id), or the execution date on 1.10."""
    if version_compat.AIRFLOW_V_2_PLUS:
        return str(row.dag_id), str(row.run_id)
    return str(row.dag_id), str(row.execution_date)


def index_dag_runs(runs: List[SimpleNamespace]) -> Dict[Tuple[str, str], SimpleNamespace]:
    """DAG runs by the key their tries name them with."""
    return {dag_run_key(run): run for run in runs}
