"""Daemon worker threads that run calls and hand back futures.

Unlike ``ThreadPoolExecutor``, whose threads the interpreter joins at exit, these never keep a
finishing task process waiting on a hung HTTP request.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from typing import Any, Callable, List, Optional, Tuple


class DaemonPool:
    """A fixed number of daemon threads, started on first use."""

    def __init__(self, size: int, name: str) -> None:
        self.size = max(1, size)
        self.name = name
        self._queue: queue.SimpleQueue[Optional[Tuple[Future[Any], Callable[[], Any]]]] = queue.SimpleQueue()
        self._threads: List[threading.Thread] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def submit(self, call: Callable[[], Any]) -> Future[Any]:
        """Run ``call`` on a worker; its result or exception lands in the returned future."""
        self.start()
        future: Future[Any] = Future()
        self._queue.put((future, call))
        return future

    def start(self) -> None:
        """Start the workers now, if they are not running (no thread starts while Python exits)."""
        if os.getpid() != self._pid:  # a forked child: the parent's threads do not exist here
            self._pid, self._threads, self._lock = os.getpid(), [], threading.Lock()
            self._queue = queue.SimpleQueue()
        if len(self._threads) == self.size:
            return
        with self._lock:
            while len(self._threads) < self.size:
                thread = threading.Thread(
                    target=self._work, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def shutdown(self) -> None:
        """Ask the workers to stop once the queue is empty (does not wait)."""
        for _ in self._threads:
            self._queue.put(None)
        self._threads = []

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, call = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the caller through the future
                future.set_exception(exc)
