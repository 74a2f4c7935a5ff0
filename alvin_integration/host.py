"""Who the host is (``airflow/<version>``), for the User-Agent: named by the producer, known to no one else.

A module of its own so that naming the host imports nothing: the producer does it at import time,
long before (and often without) the delivery stack being loaded. The sender hands ``host_token``
to its client, which reads it at each request, so a host named late is named from then on.
"""

from __future__ import annotations

_token = ""


def configure_host(token: str) -> None:
    """Name the host this process reports from; a client that exists already uses it from now on."""
    global _token
    _token = token


def host_token() -> str:
    """The host's product token, or "" when no producer named one."""
    return _token
