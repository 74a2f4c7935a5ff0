"""Who the host is (``airflow/<version>``), for the User-Agent: named by the producer, known to no one else.

A module of its own so that naming the host imports nothing: the producer does it at import time,
long before (and often without) the delivery stack being loaded.
"""

from __future__ import annotations

import sys

_token = ""


def configure_host(token: str) -> None:
    """Name the host this process reports from; an emitter that exists already uses it from now on."""
    global _token
    _token = token
    emitter = sys.modules.get("alvin_integration.emitter")
    if emitter is not None:
        emitter.host_changed(token)


def host_token() -> str:
    """The host's product token, or "" when no producer named one."""
    return _token
