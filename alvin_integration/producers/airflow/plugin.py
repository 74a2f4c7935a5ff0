"""The Airflow plugin, registered through the ``airflow.plugins`` entry point (no file copying).

With ``ALVIN_DISABLED=true`` nothing is loaded beyond that flag check.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, List, Tuple

from airflow.plugins_manager import AirflowPlugin

from alvin_integration.config import is_disabled
from alvin_integration.guard import never_raise


@never_raise("loading the alvin-integration listeners", default=[])
def _listeners() -> List[Any]:
    if is_disabled():
        return []
    from alvin_integration.producers.airflow.adapters import listeners

    return listeners()


@never_raise("installing the alvin-integration wrappers")
def _install_wrappers() -> None:
    if is_disabled():
        return
    from alvin_integration.producers.airflow.adapters import install_wrappers

    install_wrappers()


@never_raise("registering the alvin-integration hook-lineage reader", default=[])
def _hook_lineage_readers() -> List[Any]:
    if is_disabled():
        return []
    from alvin_integration.producers.airflow.compat import hook_lineage_readers

    return hook_lineage_readers()


# Long-lived Airflow components that fork no workers after their start (the command after
# `airflow`): a sender started there delivers what short-lived processes left in the machine's
# spool (1.10's DAG processors exit right after spooling a DAG run's end), never waited on. Not in
# processes that keep forking (a Celery worker's pool, Airflow 3's DAG processor): a fork while
# the sender holds a lock of the standard library would leave the child stuck. The scheduler forks
# its DAG-processor manager (and LocalExecutor workers) at its start, hence the delay
# (ALVIN_DRAIN_START_DELAY; a process that spools an event of its own starts its sender then).
LONG_LIVED = {("scheduler",), ("triggerer",)}


def _component() -> Tuple[str, ...]:
    """The Airflow command this process runs: ``("scheduler",)``, ``("celery", "worker")``..."""
    words = tuple(a for a in sys.argv[1:3] if not a.startswith("-"))
    return words[:2] if words[:2] in LONG_LIVED else words[:1]


@never_raise("starting alvin-integration's background delivery")
def _start_background_delivery() -> None:
    from alvin_integration.emitter import get_emitter

    emitter = get_emitter()
    if emitter is None:
        return
    emitter.sender.start(keep_drain_lock=True)  # drains what other processes left, meanwhile
    interval = emitter.settings.reconcile_interval
    if interval > 0 and _component() == ("scheduler",):  # where the metadata database is at hand
        from alvin_integration.producers.airflow.reconcile import reconcile_periodically
        from alvin_integration.producers.airflow.report import host_of

        threading.Thread(
            target=reconcile_periodically,
            args=(emitter, host_of(emitter), interval),
            name="alvin-reconcile",
            daemon=True,
        ).start()


@never_raise("scheduling alvin-integration's background delivery")
def _deliver_in_background() -> None:
    if is_disabled() or _component() not in LONG_LIVED:
        return
    from alvin_integration.config import load_settings

    settings = load_settings().settings  # read again (and said once) by the emitter when it starts
    if settings is None:
        return
    timer = threading.Timer(settings.drain_start_delay, _start_background_delivery)
    timer.daemon = True
    timer.name = "alvin-delivery-start"
    timer.start()


@never_raise("routing alvin-integration's metrics to Airflow's")
def _publish_metrics_through_airflow() -> None:
    """Our health metrics go where the user sent Airflow's (``[metrics]``): the sender thread asks
    ``metrics_sink`` once, on its first publish (None where metrics are off)."""
    if is_disabled():
        return
    from alvin_integration import metrics
    from alvin_integration.producers.airflow.compat import metrics_sink

    metrics.use_sink(metrics_sink)


class AlvinPlugin(AirflowPlugin):  # type: ignore[misc]  # Airflow is untyped here (not installed for mypy)
    """Reports every task try and DAG run to Alvin."""

    name = "alvin_integration"
    listeners = _listeners()
    hook_lineage_readers = _hook_lineage_readers()  # Airflow 2.10+ and 3.x: hooks then collect lineage

    @classmethod
    def on_load(cls, *args: Any, **kwargs: Any) -> None:
        """Airflow loaded the plugin (1.10.15 to 3.x call this once): wrap what the listeners miss."""
        super().on_load(*args, **kwargs)
        _install_wrappers()


_publish_metrics_through_airflow()
_deliver_in_background()
