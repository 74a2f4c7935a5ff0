"""Which try a task-instance callback is about, and how its process ends, across Airflow versions."""

from __future__ import annotations

import sys
from typing import Any

from alvin_integration.producers.airflow.version_compat import AIRFLOW_V_2_10_PLUS, AIRFLOW_V_3_0_PLUS


def current_try(ti: Any) -> int:
    """The try a callback is about."""
    if AIRFLOW_V_2_10_PLUS:
        return int(ti.try_number)
    # Before 2.10, ti.try_number names the *next* try once the state is no longer RUNNING;
    # _try_number is the current one (incremented when the try started).
    return int(getattr(ti, "_try_number", None) or ti.try_number)


def ends_its_process(ti: Any) -> bool:
    """Whether the try runs in a process that ends with it, as every executor runs a try.

    Such a process ends with ``os._exit`` (no ``atexit``): its try's end is the last chance to wait
    for delivery. ``airflow dags test``, ``tasks test`` and the DebugExecutor run tries inside a
    process that goes on; there a try's end need not wait (``emitter.flush_at_exit``).
    """
    if AIRFLOW_V_3_0_PLUS:  # the task SDK runs a try in a forked child, or in-process to test
        runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
        comms = getattr(runner, "SUPERVISOR_COMMS", None)
        return type(comms).__name__ != "InProcessSupervisorComms"
    # 1.10-2.11: a task runner's process (`tasks run --raw`) names the job that supervises it
    return getattr(ti, "job_id", 0) is not None
