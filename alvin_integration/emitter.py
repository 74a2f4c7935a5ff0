"""The front of delivery: ``emit`` appends to the spool and returns; the sender's thread delivers.

This module holds what a task calls (``emit``, ``flush``) and the per-process emitter; the thread
that delivers is ``sender``'s, and the rule of how long a try's end waits is ``flush_wait``'s.

A task waits for nothing but the local append. At the end of a try whose process ends with it
(as executors run tries), the adapter calls ``flush``, which waits at most its timeout, only while
the API answers (not once it has been silent for its budget, nor while the circuit is open); what
is left stays in the spool for the next process. Those processes end with ``os._exit``, so
nothing there relies on ``atexit``. A process that goes on after a try (``airflow dags test``)
does not wait at the try's end: its sender delivers meanwhile, and ``flush_at_exit`` has it wait
the same bounded way once, when it exits normally. After ``os.fork`` the child gets a fresh thread,
lock, session and segment, and never resends what the parent was sending.

Two audit events (``sys.addaudithook``) let a deployment see what we do in its processes:
``alvin_integration.emit`` (the event's id and its payload as spooled: redacted, never the model
object, so a hook that logs what it sees logs no secret) and ``alvin_integration.wait`` (the timeout
and the budget, when a ``flush`` is about to wait for the API; nothing else of ours waits for it).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
import threading
import time
from typing import Any, Optional, Union

from alvin_integration.config import LoadedSettings, Settings, load_settings
from alvin_integration.flush_wait import UNANSWERED_DOWN_SECONDS, FlushWait, flush_wait, silence_budget
from alvin_integration.guard import report_verbosely
from alvin_integration.logs import log_once
from alvin_integration.model import MetadataBatch, RunEvent
from alvin_integration.redact import redact
from alvin_integration.sender import Sender
from alvin_integration.sizing import fit_event
from alvin_integration.spool import Record, Spool

LINEAGE_PATH = "/api/v1/lineage"
METADATA_PATH = "/api/v1/metadata"
AUDIT_EMIT = "alvin_integration.emit"  # (event id, redacted payload): spooled
AUDIT_WAIT = "alvin_integration.wait"  # (timeout, budget): a flush starts waiting for the API


class Emitter:
    """The task-facing front: spools events for this process's sender, and waits for them at a try's end."""

    def __init__(
        self,
        settings: Settings,
        spool: Optional[Spool] = None,
        **sender_options: Any,
    ) -> None:
        """``sender_options``: the sender's ``client``, ``breaker``, ``poll_seconds`` and ``window``."""
        self.settings = settings
        self.spool = spool or Spool(settings.spool_dir, settings.spool_max_bytes)
        self.sender = Sender(settings, self.spool, **sender_options)
        self._pid = os.getpid()

    def publish_metrics(self) -> None:
        """Publish this process's health metrics now (where the host turned them on); never raises."""
        self.sender.publish_metrics()

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: no thread, new locks, new connections, new segment."""
        self.spool.after_fork_in_child()
        self.sender.after_fork_in_child()
        self._pid = os.getpid()

    def emit(self, event: Union[RunEvent, MetadataBatch]) -> str:
        """Append one event to the spool and wake the sender; returns the event's id."""
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        if isinstance(event, RunEvent):
            path, order_key = LINEAGE_PATH, event.run.run_id
        else:
            path, order_key = METADATA_PATH, "metadata"
        payload = redact(event.to_dict())
        if isinstance(event, RunEvent):  # never sent oversize, never dropped for its size
            try:
                payload = fit_event(payload, int(self.settings.max_event_kb * 1024))
            except Exception as exc:  # a bug in the cutting must not lose the event: send it whole
                log_once("fit-event", logging.WARNING, "alvin-integration could not cut an event: %s", exc)
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
        record = Record(event.event_id, path, body.encode("utf-8"), order_key=order_key)
        self.spool.append(record)
        self.sender.appended()
        sys.audit(AUDIT_EMIT, record.id, payload)
        return record.id

    def flush(self, timeout: float) -> bool:
        """Wait for this process's events while the API answers, at most ``timeout`` s; True if delivered.

        On an ephemeral worker (``Settings.ephemeral``: no later process will find the spool) it
        waits up to ``timeout`` whatever the API does, and says once when it gave up with events left.
        How long it waits is ``flush_wait``'s rule, asked again at every step.
        """
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        if not self.spool.own_pending():
            return True
        sender, ephemeral = self.sender, self.settings.ephemeral
        latency, known_down, probed = 0.0, False, False
        if not ephemeral:  # what this process and the machine know of the API, once
            known_down = sender.failing() or sender.health.down_for() > 0
            probed = not known_down and sender.health.probing_elsewhere()
            latency = sender.health.read().get("latency") or 0.0
        started = time.monotonic()

        def rule(down: bool) -> FlushWait:
            return flush_wait(
                time.monotonic(),
                started,
                timeout,
                ephemeral=ephemeral,
                known_down=down,
                probed_elsewhere=probed,
                latency=latency,
                oldest_unanswered=sender.oldest_unanswered(),
                last_answer=sender.last_answer,
            )

        wait = rule(known_down)
        if wait.seconds > 0:
            sys.audit(AUDIT_WAIT, timeout, timeout if ephemeral else silence_budget(latency))
            with sender.flush_waiting(last_chance=ephemeral) as wait_for_progress:
                while self.spool.own_pending():
                    wait = rule(sender.failing())
                    if wait.seconds <= 0:
                        break
                    if ephemeral:
                        sender.wake()  # a sender pausing for a failed API tries again, paced
                    wait_for_progress(min(wait.seconds, 0.05))
                else:
                    return True
        if wait.hung:  # a hung API: say so to the machine's other processes
            sender.health.mark_down(UNANSWERED_DOWN_SECONDS)
        if ephemeral:
            self._say_events_are_lost(timeout)
        return False

    def _say_events_are_lost(self, timeout: float) -> None:
        try:
            left = str(len(self.spool.pending_ids()))
        except Exception:  # the count is for people; saying it is what matters
            left = "some"
        log_once(
            "ephemeral-loss",
            logging.WARNING,
            "alvin-integration: %s event(s) were not delivered to the Alvin API at %s within "
            "ALVIN_FLUSH_TIMEOUT=%gs, and this worker's spool ends with it (ephemeral worker), so "
            "they are lost. Raise ALVIN_FLUSH_TIMEOUT, or check the API (alvin-integration doctor); "
            "`alvin-integration reconcile` rebuilds the runs' states from the metadata database.",
            left,
            self.settings.url,
            timeout,
        )

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sender thread (tests and tools; task processes simply exit)."""
        self.sender.close(timeout)
        self.spool.close()


# -- the process-wide emitter ---------------------------------------------------------------------

_emitter: Optional[Emitter] = None
_emitter_lock = threading.Lock()


_loaded: Optional[LoadedSettings] = None


def get_emitter() -> Optional[Emitter]:
    """This process's emitter, or None when settings are missing, invalid or disabled."""
    global _emitter, _loaded
    if _emitter is not None or _loaded is not None:
        return _emitter
    with _emitter_lock:
        if _loaded is None:
            loaded = load_settings()
            if loaded.settings is not None and not loaded.disabled:
                report_verbosely(loaded.settings.verbose_log)
                _emitter = Emitter(loaded.settings)
            else:
                log_once(
                    "settings",
                    logging.WARNING if loaded.problems else logging.INFO,
                    loaded.summary(),
                )
            _loaded = loaded
    return _emitter


def reset_emitter() -> None:
    """Forget the process-wide emitter so that settings are read again (tests and tools)."""
    global _emitter, _loaded
    with _emitter_lock:
        if _emitter is not None:
            _emitter.close(timeout=0.1)
        _emitter, _loaded = None, None
        report_verbosely(False)


def emit(event: Union[RunEvent, MetadataBatch]) -> Optional[str]:
    """Spool an event for delivery; never raises; returns its id, or None if not reporting."""
    try:
        emitter = get_emitter()
        return emitter.emit(event) if emitter is not None else None
    except Exception as exc:
        log_once("emit-error", logging.WARNING, "alvin-integration could not spool an event: %s", exc)
        return None


def flush(timeout: float) -> bool:
    """Wait at most ``timeout`` seconds for delivery of this process's events; never raises."""
    try:
        emitter = _emitter
        if emitter is None:
            return True
        delivered = emitter.flush(timeout)
        emitter.publish_metrics()  # the try's last counts, before its process ends (a few datagrams)
        return delivered
    except Exception as exc:
        log_once("flush-error", logging.WARNING, "alvin-integration flush failed: %s", exc)
        return False


_flush_at_exit_pid: Optional[int] = None


def flush_at_exit() -> None:
    """Have this process wait for its events, as ``flush`` does, when it exits normally; never raises."""
    global _flush_at_exit_pid
    if _flush_at_exit_pid != os.getpid():
        _flush_at_exit_pid = os.getpid()
        atexit.register(_flush_before_exit, _flush_at_exit_pid)
    try:
        if _emitter is not None:
            _emitter.sender.deliver_in_bursts()
            _emitter.sender.start_all_threads()
    except Exception as exc:  # what is spooled stays there for the next process
        log_once("exit-threads", logging.WARNING, "alvin-integration could not start its sender: %s", exc)


def _flush_before_exit(pid: int) -> None:
    emitter = _emitter
    if emitter is not None and os.getpid() == pid:  # a forked child inherits the registration
        flush(emitter.settings.flush_timeout)


def _after_fork_in_child() -> None:
    if _emitter is not None:
        _emitter.after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
