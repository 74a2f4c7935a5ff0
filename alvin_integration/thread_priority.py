"""Background work of a long-lived host process gives the CPU to the host first (Linux threads).

The scheduler's sender drains what ended processes left (a backlog after an outage: thousands of
deliveries in a few seconds) and its reconcile thread rebuilds events from the metadata
database. On a machine whose cores also run task tries, that work competes with the tries for the
CPU. Linux schedules each thread with a nice value of its own, so those threads, and only they,
run at a lower priority: a try on the machine runs as if they were not there, and they take the
CPU the tries leave. Elsewhere (macOS, Windows) a nice value is the whole process's: nothing is
changed there.
"""

from __future__ import annotations

import os
import sys
import threading

NICE_INCREMENT = 10  # as `nice` does by default, above the process's main thread


def yield_cpu_to_host() -> bool:
    """Run the calling thread ``NICE_INCREMENT`` below the process's main thread (Linux); whether
    it now does. Idempotent (a thread started by a lowered one is lowered already). Never raises."""
    get_native_id = getattr(threading, "get_native_id", None)
    if not sys.platform.startswith("linux") or get_native_id is None:
        return False
    try:
        thread = get_native_id()
        lowered = min(19, os.getpriority(os.PRIO_PROCESS, os.getpid()) + NICE_INCREMENT)
        if os.getpriority(os.PRIO_PROCESS, thread) < lowered:
            os.setpriority(os.PRIO_PROCESS, thread, lowered)
    except (OSError, AttributeError):  # not permitted here, or no such call on this platform
        return False
    return True


def thread_nice(native_id: int) -> int:
    """The nice value of one thread of this process (Linux)."""
    return os.getpriority(os.PRIO_PROCESS, native_id)
