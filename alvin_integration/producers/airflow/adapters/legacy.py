"""Airflow 1.10 and 2.0-2.2: no listener API; the [lineage] backend reports successful tries."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from alvin_integration.producers.airflow.extract import datasets
from alvin_integration.producers.airflow.report import COMPLETE, report_task


def report_success_from_backend(
    operator: Any, inlets: Optional[List[Any]], outlets: Optional[List[Any]], context: Dict[str, Any]
) -> None:
    """Report the COMPLETE of the try that just ran, with the inlets/outlets Airflow resolved."""
    ti = context.get("ti") or context.get("task_instance")
    if ti is None:
        return
    # Before 2.10 ti.try_number already names the next try once the try is over.
    try_number = int(getattr(ti, "_try_number", None) or ti.try_number)
    report_task(COMPLETE, ti, try_number, "success", inputs=datasets(inlets), outputs=datasets(outlets))
