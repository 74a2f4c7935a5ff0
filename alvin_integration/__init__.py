"""Report Apache Airflow lineage and run metadata to the Alvin data platform.

Importing this package is cheap and never imports Airflow: the Airflow adapters are loaded by the
plugin entry point or the lineage backend, and the delivery pipeline only on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from alvin_integration.model import RunEvent

__all__ = ["__version__", "emit", "flush"]


def emit(event: RunEvent) -> Any:
    """Append one lineage event to the local spool for background delivery."""
    from alvin_integration.emitter import emit as _emit

    return _emit(event)


def flush(timeout: float) -> bool:
    """Wait at most ``timeout`` seconds for this process's events to be delivered."""
    from alvin_integration.emitter import flush as _flush

    return _flush(timeout)
