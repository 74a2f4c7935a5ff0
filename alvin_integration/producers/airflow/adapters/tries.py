"""Which try a task-instance callback is about, across Airflow versions."""

from __future__ import annotations

from typing import Any

from alvin_integration.producers.airflow.version_compat import AIRFLOW_V_2_10_PLUS


def current_try(ti: Any) -> int:
    """The try a callback is about."""
    if AIRFLOW_V_2_10_PLUS:
        return int(ti.try_number)
    # Before 2.10, ti.try_number names the *next* try once the state is no longer RUNNING;
    # _try_number is the current one (incremented when the try started).
    return int(getattr(ti, "_try_number", None) or ti.try_number)
