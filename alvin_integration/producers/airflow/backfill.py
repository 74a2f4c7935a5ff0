"""``reconcile --backfill``: the lineage of a past try, rebuilt from its DAG's current definition.

For onboarding: a team that installs us today has months of history in Airflow's metadata
database. Each recorded try's task is found in the DAG bag as it is defined now; its templated
fields are rendered for that try's logical date, the live path's ``lineage_of`` (``at_end=False``:
declared inlets/outlets, SQL, operator arguments, users' extractors) reads its datasets, and the
fields are put back. No task runs, no hook is made, no connection is opened. A task no longer in
its DAG, or a DAG no longer parsed, gets its try's events without lineage.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional, Tuple

from alvin_integration.producers.airflow.extract.task_lineage import FoundLineage, lineage_of
from alvin_integration.producers.airflow.host_attrs import read_attr
from alvin_integration.producers.airflow.preview import PARSE_WAIT, render
from alvin_integration.producers.airflow.read import nominal_start_of, read_task_try

LINEAGE_NOTE = "rebuilt from the DAG's current definition (alvin-integration reconcile --backfill)"


def _logical_date(row: Any, dag_run: Any) -> Optional[datetime]:
    date = read_attr(dag_run, "logical_date", "execution_date") or nominal_start_of(dag_run)
    date = date or read_attr(row, "execution_date", "start_date")
    if not isinstance(date, datetime):
        return None
    return date if date.tzinfo else date.replace(tzinfo=timezone.utc)


class DefinitionLineage:
    """The tasks of the DAGs parsed now, and the lineage each would report for a past logical date."""

    def __init__(self, dags: List[Any], extractors: Optional[str] = None) -> None:
        self._dags: Dict[str, Any] = {str(read_attr(dag, "dag_id")): dag for dag in dags}
        self._extractors = extractors
        self._last: Optional[Tuple[Tuple[str, str, str], FoundLineage]] = None  # START and end ask in a row

    def task_of(self, row: Any) -> Optional[Any]:
        """The task of the try's row in its DAG as defined now; None if it is gone."""
        dag = self._dags.get(str(read_attr(row, "dag_id")))
        tasks = read_attr(dag, "task_dict") or {}
        return tasks.get(str(read_attr(row, "task_id"))) if isinstance(tasks, dict) else None

    @contextlib.contextmanager
    def rendered(self, row: Any, dag_run: Any) -> Iterator[Tuple[Optional[Any], Optional[FoundLineage]]]:
        """The try's task rendered for its logical date, and its lineage; fields restored after."""
        task = self.task_of(row)
        if task is None:
            yield None, None
            return
        fields = [name for name in (read_attr(task, "template_fields") or ()) if isinstance(name, str)]
        saved = {name: getattr(task, name, None) for name in fields}
        date = _logical_date(row, dag_run)
        run_id = str(read_attr(row, "run_id") or "")
        try:
            render(task, self._dags[str(read_attr(row, "dag_id"))], date, run_id or "backfill")
            yield task, self._lineage(task, row, date)
        finally:
            for name, value in saved.items():
                with contextlib.suppress(Exception):  # a read-only attribute: rendering left it alone
                    setattr(task, name, value)

    def _lineage(self, task: Any, row: Any, date: Optional[datetime]) -> FoundLineage:
        key = (str(read_attr(row, "dag_id")), str(read_attr(row, "task_id")), str(date))
        if self._last is None or self._last[0] != key:
            ti = SimpleNamespace(
                task=task,
                dag_id=key[0],
                task_id=key[1],
                run_id=read_attr(row, "run_id"),  # 2.2+; 1.10 and 2.0-2.1 name the run by its date
                execution_date=read_attr(row, "execution_date") or date,
                map_index=read_attr(row, "map_index"),
            )
            found = lineage_of(read_task_try(ti, 1, "running"), self._extractors, start_wait=PARSE_WAIT)
            self._last = (key, found)
        return self._last[1]
