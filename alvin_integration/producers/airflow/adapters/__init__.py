"""Version adapters: the listeners and wrappers of each Airflow, chosen once, at import.

The version facts are read inside each function, as Airflow is: importing the package needs neither.
What they share with extraction (reading a connection, DAG parsing, the try a callback is about)
is in ``compat``; what two adapters share is in a module both import (``failure``).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, List

from alvin_integration.logs import log_once

# What the wrappers (``install_wrappers``) replace functions of. Where the plugin is imported before
# these (``python -X importtime -c "import airflow; import <plugin>"``, or 2.0-2.2's eager plugins),
# its import does not pull them in: Airflow's ``on_load`` of the plugin installs the wrappers then.
WRAPPED_MODULES = ("airflow.models.taskinstance", "airflow.models.dagrun")


def listeners() -> List[Any]:
    """The listener objects for this Airflow; the wrappers too, where what they wrap is imported."""
    from alvin_integration.producers.airflow import version_compat

    if not version_compat.AIRFLOW_SUPPORTED:  # no adapter was written for it: report nothing
        log_once(
            "unsupported-airflow",
            logging.WARNING,
            "alvin-integration supports Airflow %s; this is Airflow %s, so nothing is reported "
            "(tasks run as usual); upgrade alvin-integration",
            version_compat.SUPPORTED_TEXT,
            version_compat.AIRFLOW_VERSION_TEXT,
        )
        return []
    if version_compat.AIRFLOW_V_3_0_PLUS:
        from alvin_integration.producers.airflow.adapters import airflow3

        return [airflow3.LISTENER]
    if all(name in sys.modules for name in WRAPPED_MODULES):  # as in every process that runs tries
        install_wrappers()
    if version_compat.AIRFLOW_V_2_3_PLUS:
        from alvin_integration.producers.airflow.adapters import airflow2

        return [airflow2.LISTENER]
    return []


def install_wrappers() -> None:
    """Wrap the host functions this Airflow's listeners miss (1.10 to 2.11; idempotent)."""
    from alvin_integration.producers.airflow import version_compat

    if not version_compat.AIRFLOW_SUPPORTED or version_compat.AIRFLOW_V_3_0_PLUS:
        return
    if version_compat.AIRFLOW_V_2_3_PLUS:
        from alvin_integration.producers.airflow.adapters import airflow2

        airflow2.install_wrappers()
    else:
        from alvin_integration.producers.airflow.adapters import legacy

        legacy.install_wrappers()


def adapter_name() -> str:
    """A short name of the adapter in use, for doctor and logs."""
    from alvin_integration.producers.airflow import version_compat
    from alvin_integration.producers.airflow.composer import is_composer

    if not version_compat.AIRFLOW_SUPPORTED:
        name = f"none (Airflow {version_compat.SUPPORTED_TEXT} only)"
    elif version_compat.AIRFLOW_V_3_0_PLUS:
        name = "airflow3 (task-SDK listener plugin)"
    elif version_compat.AIRFLOW_V_2_3_PLUS:
        name = "airflow2 (listener plugin)"
    elif version_compat.AIRFLOW_V_2_PLUS:
        name = "airflow2 before 2.3 ([lineage] backend)"
    else:
        name = "airflow1 ([lineage] backend)"
    return name + (" + composer" if is_composer() else "")


def _lazy_plugins() -> bool:
    """Whether this Airflow's configuration loads plugins lazily (``[core] lazy_load_plugins``)."""
    from airflow.configuration import conf

    from alvin_integration.producers.airflow import version_compat

    section, option, _ = version_compat.EAGER_PLUGINS_SETTING
    return bool(conf.getboolean(section, option, fallback=True))


def reporting_gaps() -> List[str]:
    """What this Airflow version cannot report, in words (doctor prints them; the README lists them)."""
    from alvin_integration.producers.airflow import version_compat

    if version_compat.NEEDS_EAGER_PLUGINS and _lazy_plugins():
        section, option, value = version_compat.EAGER_PLUGINS_SETTING
        return [
            f"no DAG-run events from the scheduler: Airflow 2.0-2.2 load plugins lazily and the "
            f"scheduler never loads ours; set [{section}] {option} = {value} (AIRFLOW__"
            f"{section.upper()}__{option.upper()}={value}) where the scheduler runs, or run "
            "`alvin-integration reconcile` periodically"
        ]
    if not version_compat.AIRFLOW_V_2_3_PLUS:  # the [lineage] backend and wrappers see everything
        return []
    if not version_compat.AIRFLOW_V_2_5_PLUS:
        return [
            "no DAG-run events: Airflow 2.3 and 2.4 have no DAG-run listener",
            "task tries are reported from task processes (`airflow tasks run --local`, what every "
            "executor runs), not from `airflow dags test`, where Airflow 2.3 and 2.4 call no listener",
        ]
    return [
        "`airflow dags test` reports task tries but no DAG run: Airflow calls DAG-run listeners from "
        "the scheduler (and backfills), not from `dags test`"
    ]
