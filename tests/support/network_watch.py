"""Which threads touch the network, and what we report and wait for: an audit hook records them."""

from __future__ import annotations

import sys
import threading
from typing import Any, List, Tuple

_events: List[Tuple[int, str]] = []
_ours: List[Tuple[str, Tuple[Any, ...]]] = []
_watching = threading.Event()


def _hook(event: str, args: Tuple[Any, ...]) -> None:
    if _watching.is_set() and event.startswith("socket."):
        _events.append((threading.get_ident(), event))
    elif _watching.is_set() and event.startswith("alvin_integration."):
        _ours.append((event, args))


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while watching


class NetworkWatch:
    """Context manager collecting socket audit events raised by one thread, and all of ours."""

    def __init__(self, thread_ident: int) -> None:
        self.thread_ident = thread_ident
        self.events: List[str] = []
        self.ours: List[Tuple[str, Tuple[Any, ...]]] = []

    def __enter__(self) -> NetworkWatch:
        _events.clear()
        _ours.clear()
        _watching.set()
        return self

    def __exit__(self, *exc: object) -> None:
        _watching.clear()
        self.events = [name for ident, name in _events if ident == self.thread_ident]
        self.ours = list(_ours)
