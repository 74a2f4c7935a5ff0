"""The Airflow plugin, registered through the ``airflow.plugins`` entry point (no file copying).

With ``ALVIN_DISABLED=true`` nothing is loaded beyond that flag check.
"""

from __future__ import annotations

from typing import Any, List

from airflow.plugins_manager import AirflowPlugin

from alvin_integration.config import is_disabled
from alvin_integration.guard import never_raise


@never_raise("loading the alvin-integration listeners", default=[])
def _listeners() -> List[Any]:
    if is_disabled():
        return []
    from alvin_integration.producers.airflow.adapters import listeners

    return listeners()


@never_raise("registering the alvin-integration hook-lineage reader", default=[])
def _hook_lineage_readers() -> List[Any]:
    if is_disabled():
        return []
    from alvin_integration.producers.airflow.adapters import hook_lineage_readers

    return hook_lineage_readers()


class AlvinPlugin(AirflowPlugin):  # type: ignore[misc]  # Airflow is untyped here (not installed for mypy)
    """Reports every task try and DAG run to Alvin."""

    name = "alvin_integration"
    listeners = _listeners()
    hook_lineage_readers = _hook_lineage_readers()  # Airflow 2.10+ and 3.x: hooks then collect lineage
