"""The per-attempt deadline: a request still unanswered at its deadline is cut, whatever the server does.

``http_timeout`` bounds each read, not the request: a server that answers a byte a second would
hold a delivery for as long as it likes. Each attempt runs inside ``Watchdog.attempt``, which
records the connection urllib3 hands it (the watched pools below tell it), and at the deadline
one watchdog thread shuts that socket down, which ends the request with a connection error.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type

from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Attempt:
    """One request in flight: the connection it uses, so that a watchdog can cut it at its deadline."""

    current = threading.local()  # ``.attempt``: the attempt in flight on this thread, if any

    def __init__(self) -> None:
        self.connection: Any = None
        self.reused = False  # the connection was kept alive from an earlier request
        self.expired = False
        self.done = False  # answered or failed: the watchdog leaves it alone

    def expire(self) -> None:
        """Cut the request: shut its socket down (called by the watchdog)."""
        if self.done:  # answered meanwhile: its connection may already serve another request
            return
        self.expired = True
        sock = getattr(self.connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Watchdog:
    """One daemon thread that cuts each attempt still unanswered at its deadline.

    One thread for every request, not a timer thread per request: a thread start costs the task's
    process CPU on every delivery, and no thread can start once the interpreter is exiting (the
    flush at the exit of a ``dags test`` process).
    """

    def __init__(self) -> None:
        self._due: List[Tuple[float, int, Attempt]] = []  # a heap of (deadline, order, attempt)
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def start(self) -> None:
        """Start the thread if it is not running (it may fail while the interpreter exits)."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._changed:
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._run, name="alvin-watchdog", daemon=True)
                thread.start()
                self._thread = thread

    def stop(self) -> None:
        """End the thread (tests and tools; a task process simply exits)."""
        with self._changed:
            self._stopped = True
            self._changed.notify()

    def watch(self, attempt: Attempt, seconds: float) -> None:
        """Cut ``attempt`` in ``seconds`` unless it is done by then."""
        with self._changed:
            self._forget_done()
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._order), attempt))
            if self._due[0][2] is attempt:
                self._changed.notify()

    @contextmanager
    def attempt(self, seconds: Optional[float]) -> Iterator[Attempt]:
        """An attempt in flight on this thread, cut in ``seconds`` unless done by then (None: never)."""
        attempt = Attempt()
        if seconds is not None:
            try:
                self.start()
            except RuntimeError:  # the interpreter is exiting: each read is still bounded by its timeout
                pass
            self.watch(attempt, seconds)  # the whole request, body included
        Attempt.current.attempt = attempt
        try:
            yield attempt
        finally:
            attempt.done, attempt.connection = True, None
            Attempt.current.attempt = None

    def _forget_done(self) -> None:
        while self._due and self._due[0][2].done:  # answered in time
            heapq.heappop(self._due)

    def _run(self) -> None:
        while not self._stopped:
            with self._changed:
                self._forget_done()
                if self._stopped:
                    return
                if not self._due:
                    self._changed.wait()
                    continue
                deadline, _, attempt = self._due[0]
                if deadline > time.monotonic():
                    self._changed.wait(deadline - time.monotonic())
                    continue
                heapq.heappop(self._due)
            attempt.expire()


class _WatchedPoolMixin:
    """Tells the attempt in flight on this thread which connection it got (keep-alive included)."""

    def _get_conn(self, *args: Any, **kwargs: Any) -> Any:
        connection = super()._get_conn(*args, **kwargs)  # type: ignore[misc]
        attempt = getattr(Attempt.current, "attempt", None)
        if attempt is not None:
            attempt.connection = connection
            attempt.reused = getattr(connection, "sock", None) is not None
        return connection


class _WatchedHTTPPool(_WatchedPoolMixin, HTTPConnectionPool):
    pass


class _WatchedHTTPSPool(_WatchedPoolMixin, HTTPSConnectionPool):
    pass


def watched_pool_classes() -> Dict[str, Type[HTTPConnectionPool]]:
    """urllib3's pool classes by scheme, telling each attempt its connection (a PoolManager's
    ``pool_classes_by_scheme``)."""
    return {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}
