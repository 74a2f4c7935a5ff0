"""The few things read from Airflow differently per version, for adapters and extraction alike.

A leaf: it imports only ``version_compat`` and Airflow, both inside the function that needs them
(``version_compat`` reads the installed Airflow), so that everything above it (extraction, reading,
reporting, the adapters) may import it, and extraction imports and runs without Airflow.
"""

from __future__ import annotations

import sys
from typing import Any, Final, List, Optional, Tuple

# Where Airflow keeps every distribution's entry points, read once per process (2.7+: utils; 3.x:
# the shared module loader). Private: read only if already loaded and filled, never imported.
ENTRY_POINT_CACHES: Final = ("airflow.utils.entry_points", "airflow._shared.module_loading")


def current_try(ti: Any) -> int:
    """The try a callback is about."""
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_2_10_PLUS:
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
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_3_0_PLUS:  # the task SDK runs a try in a forked child, or in-process to test
        runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
        comms = getattr(runner, "SUPERVISOR_COMMS", None)
        return type(comms).__name__ != "InProcessSupervisorComms"
    # 1.10-2.11: a task runner's process (`tasks run --raw`) names the job that supervises it
    return getattr(ti, "job_id", 0) is not None


def get_connection(conn_id: str) -> Any:
    """The Airflow connection ``conn_id`` from the secrets backends, never opened, no password used.

    Not through ``BaseHook.get_connection`` on 1.10 and 2.x: Airflow 2.2 logs the whole connection
    there, password included.
    """
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_3_0_PLUS:
        try:
            from airflow.sdk import BaseHook
        except ImportError:  # 3.0 before the SDK exported it
            from airflow.hooks.base import BaseHook
        return BaseHook.get_connection(conn_id)  # logs the connection id only
    if version_compat.AIRFLOW_V_2_PLUS:
        from airflow.models.connection import Connection

        return Connection.get_connection_from_secrets(conn_id)
    from airflow.hooks.base_hook import BaseHook

    return BaseHook.get_connections(conn_id)[0]  # the list, which 1.10 reads without logging


def hook_lineage_readers() -> List[Any]:
    """Our hook-lineage reader class for the plugin (Airflow 2.10+ and 3.x), so hooks collect lineage.

    Airflow's hooks record what they read and write only when some plugin registers a reader.
    """
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_3_2_PLUS:
        from airflow.sdk.lineage import HookLineageReader
    elif version_compat.AIRFLOW_V_2_10_PLUS:  # 3.0 and 3.1 too
        from airflow.lineage.hook import HookLineageReader
    else:
        return []
    return [type("AlvinHookLineageReader", (HookLineageReader,), {"__module__": __name__})]


def hook_lineage_collector() -> Any:
    """This process's hook-lineage collector (Airflow 2.10+ and 3.x), else None."""
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_3_2_PLUS:
        from airflow.sdk.lineage import get_hook_lineage_collector
    elif version_compat.AIRFLOW_V_2_10_PLUS:  # 3.0 and 3.1 too
        from airflow.lineage.hook import get_hook_lineage_collector
    else:
        return None
    return get_hook_lineage_collector()


def parse_dags(dags_folder: Optional[str] = None) -> Tuple[List[Any], List[str]]:
    """The DAGs Airflow parses from ``dags_folder`` (default: its own) and the files that failed."""
    from alvin_integration.producers.airflow import version_compat

    if version_compat.AIRFLOW_V_3_2_PLUS:  # moved there in 3.2; example DAGs are a bundle of their own
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=dags_folder)
    else:
        from airflow.models import DagBag

        bag = DagBag(dag_folder=dags_folder, include_examples=False)
    return list(bag.dags.values()), sorted(str(path) for path in bag.import_errors)


def entry_points_airflow_read(group: str) -> Optional[List[Tuple[str, str]]]:
    """(name, value) of ``group``'s entry points if Airflow already read them all in this process.

    None when it has not (1.10, 2.0-2.6, or before it loaded plugins): reading them again costs
    a task process some 5 ms, so the caller then reads only the distributions that name the group.
    A distribution on ``sys.path`` twice is served once.
    """
    for module_name in ENTRY_POINT_CACHES:
        grouped = getattr(sys.modules.get(module_name), "_get_grouped_entry_points", None)
        info = getattr(grouped, "cache_info", None)
        if grouped is None or info is None or not info().currsize:
            continue
        try:
            points = (point for point, _distribution in grouped().get(group, ()))
            return list(dict.fromkeys((str(point.name), str(point.value)) for point in points))
        except Exception:  # a private structure that changed shape: the caller reads them itself
            return None
    return None


# Where this process's Airflow keeps an initialized metrics backend (3.3+: the core's and the task
# SDK's own copies of one module; whichever the process initialized). Private: read, never imported.
STATS_MODULES: Final = (
    "airflow._shared.observability.metrics.stats",
    "airflow.sdk._shared.observability.metrics.stats",
)


def metrics_enabled() -> bool:
    """Whether the user turned Airflow's metrics on (StatsD, Datadog or OpenTelemetry)."""
    from airflow.configuration import conf

    from alvin_integration.producers.airflow import version_compat

    section = "metrics" if version_compat.AIRFLOW_V_2_PLUS else "scheduler"  # 1.10: [scheduler] statsd_on
    return any(
        conf.getboolean(section, key, fallback=False)
        for key in ("statsd_on", "otel_on", "statsd_datadog_enabled")
    )


def metrics_sink() -> Optional[Any]:
    """Airflow's ``Stats`` (``incr``, ``gauge``, ``timing``) where the user turned metrics on, set up as
    this process's Airflow set it up; None where metrics are off."""
    if not metrics_enabled():
        return None
    for name in STATS_MODULES:  # 3.3+
        stats = sys.modules.get(name)
        if stats is not None and getattr(stats, "_factory", None) is not None:
            return stats.Stats
    try:
        from airflow.sdk._shared.observability.metrics import stats as sdk_stats  # 3.3+: none set up here
        from airflow.sdk.observability.metrics import stats_utils
    except ImportError:
        pass
    else:  # a process that set up no backend (the CLI): as the task runner sets it up
        sdk_stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
        return sdk_stats.Stats
    try:
        from airflow.stats import Stats  # 2.0 to 3.2
    except ImportError:
        from airflow.settings import Stats  # type: ignore[attr-defined,no-redef]  # 1.10
    return Stats
