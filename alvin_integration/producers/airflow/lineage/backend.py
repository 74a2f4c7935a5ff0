"""The documented ``[lineage] backend`` classes (their paths are in users' airflow.cfg: keep them).

- Airflow 1.10 and 2.0-2.2 have no listener API: there the backend reports the successful task
  try with its inlets and outlets (1.10 calls ``send_lineage`` on the class, 2.x on an instance).
- Airflow 2.3+: the listener plugin reports; a configured backend does nothing, so nothing is
  reported twice.
- Airflow 3 has no lineage backend: these classes import without error and say so once.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from alvin_integration.guard import never_raise
from alvin_integration.logs import log_once
from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.adapters.legacy import report_success_from_backend

try:  # Airflow 1.10 and 2.x
    from airflow.lineage.backend import LineageBackend as _Base
except ImportError:  # Airflow 3: no lineage backend exists
    _Base = object  # type: ignore[assignment,misc]

if version_compat.AIRFLOW_V_3_0_PLUS:
    log_once(
        "backend-af3",
        logging.INFO,
        "alvin-integration: Airflow 3 has no [lineage] backend; the alvin-integration plugin reports "
        "on its own and the [lineage] backend setting can be removed",
    )


class AlvinAirflowLineageBackend(_Base):  # type: ignore[misc,valid-type]
    """Reports a successful task try with its inlets and outlets where Airflow has no listeners."""

    @staticmethod
    @never_raise("reporting lineage from the [lineage] backend")
    def send_lineage(
        operator: Any = None,
        inlets: Optional[list] = None,  # type: ignore[type-arg]
        outlets: Optional[list] = None,  # type: ignore[type-arg]
        context: Optional[dict] = None,  # type: ignore[type-arg]
    ) -> None:
        """Called by Airflow after a successful ``execute`` (on the class in 1.10)."""
        if not version_compat.AIRFLOW_SUPPORTED:
            return  # the plugin has said so once; nothing is reported
        if version_compat.AIRFLOW_V_2_3_PLUS:
            log_once(
                "backend-not-needed",
                logging.INFO,
                "alvin-integration: on Airflow 2.3+ the plugin reports through listeners; the "
                "[lineage] backend setting is not needed and reports nothing (no double reports)",
            )
            return
        report_success_from_backend(operator, inlets, outlets, context or {})


class AlvinAirflowLineageBackendComposer(AlvinAirflowLineageBackend):
    """The same backend, under the name the Composer documentation uses."""
