"""What the adapters before Airflow 2.10 share: the FAIL of a try ``handle_failure`` ended, reported once.

``legacy`` (1.10, 2.0-2.2) and ``airflow2`` (2.3-2.9) wrap ``TaskInstance.handle_failure`` with
``after_handle_failure``; ``REPORTED`` remembers what this process reported, so that a wrapper
called repeatedly reports once.
"""

from __future__ import annotations

import threading
from typing import Any, Dict

from alvin_integration.bounded import put_bounded
from alvin_integration.producers.airflow.adapters.lazy_report import FAIL, report_task
from alvin_integration.producers.airflow.adapters.query_ids import recorded_query_ids
from alvin_integration.producers.airflow.compat import current_try
from alvin_integration.producers.airflow.host_attrs import state_name

_MAX_REMEMBERED = 10_000


class ProcessOnce:
    """Remembers what this process reported, so a wrapper called repeatedly reports once."""

    def __init__(self) -> None:
        self._seen: Dict[str, None] = {}
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        """True the first time ``key`` is seen in this process."""
        with self._lock:
            if key in self._seen:
                return False
            put_bounded(self._seen, key, None, _MAX_REMEMBERED)
            return True


REPORTED = ProcessOnce()


def try_key(ti: Any, what: str) -> str:
    """What names one event of one try: ``dag|task|dag run|try|event``."""
    dag_run = getattr(ti, "run_id", None) or ti.execution_date  # Airflow 1.10 has no run_id on a TI
    return f"{ti.dag_id}|{ti.task_id}|{dag_run}|{current_try(ti)}|{what}"


def after_handle_failure(result: Any, ti: Any, *args: Any, **kwargs: Any) -> None:
    """Report the FAIL (``up_for_retry`` included) of the try ``TaskInstance.handle_failure`` ended."""
    error = kwargs.get("error", args[0] if args else None)
    if REPORTED.first(try_key(ti, FAIL)):
        state = state_name(ti.state) or "failed"
        report_task(FAIL, ti, current_try(ti), state, error, query_ids=recorded_query_ids())
