"""The background sender: ``emit`` appends to the spool and returns; a daemon thread delivers.

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
from concurrent.futures import Future
from typing import Dict, Optional, Union

from alvin_integration.circuit import CircuitBreaker, SharedHealth
from alvin_integration.client import AlvinClient, Delivery, Outcome, RetryPolicy
from alvin_integration.config import LoadedSettings, Settings, load_settings
from alvin_integration.host import host_token
from alvin_integration.ledger import DeliveredLedger
from alvin_integration.logs import get_logger, log_once
from alvin_integration.machine_lock import MachineLock
from alvin_integration.model import MetadataBatch, RunEvent
from alvin_integration.redact import redact
from alvin_integration.sizing import fit_event
from alvin_integration.spool import Record, Spool, Verdict
from alvin_integration.spool_dir import SpoolDir
from alvin_integration.workers import DaemonPool

log = get_logger(__name__)

LINEAGE_PATH = "/api/v1/lineage"
METADATA_PATH = "/api/v1/metadata"
POLL_SECONDS = 5.0  # how often an idle sender looks for segments other processes left behind
REFUSED_PAUSE_SECONDS = 300.0
# Deliveries in flight at once: hides the API's round trip, which bounds a one-at-a-time sender.
DELIVERY_WINDOW = 4
# While the task's thread is emitting, the sender steps aside (its Python work would contend for
# the GIL with the task); it waits for this much quiet, but never longer than MAX_YIELD_SECONDS.
QUIET_SECONDS = 0.02
MAX_YIELD_SECONDS = 1.0
# In a process that goes on after its tries (``flush_at_exit``), the sender lets events gather this
# long before a pass (a flush ends the wait at once): a burst of deliveries runs on warm caches
# and takes less of the task's CPU than the same deliveries one by one, each between two stretches
# of the task's own work. An executor's task process sends at once: it lives for one try, and its
# sender also drains what dead processes left, which a wait would cut short.
GATHER_SECONDS = 0.25
# A finishing task waits at most this multiple of the API's recent delivery latency (shared by
# the machine's processes), and never less than the floor; ALVIN_FLUSH_TIMEOUT is the ceiling.
# Both count from the oldest request still unanswered (the START was sent while the task ran), so
# an API that left it unanswered all that time is not waited for again; with nothing known of the
# API's latency, the floor is the budget.
FLUSH_LATENCY_FACTOR = 10.0
FLUSH_FLOOR_SECONDS = 0.3
# An API this slow (its recent delivery latency, as any process of the machine saw it) is not waited
# for at a task's end: the events stay spooled and the sender, here or in a later process, delivers
# them. Waiting for a slow API would add its latency to every task.
SLOW_API_SECONDS = 0.5
# A flush that ran out of time with its events unanswered tells the machine's other processes
# not to wait for the API for this long (a hung API never fails an attempt within a task's life).
UNANSWERED_DOWN_SECONDS = 30.0
# An ephemeral worker's last chance: while its try's end waits, the sender tries again this often
# after a failure (the circuit's longer pauses would outlast the pod), whatever the machine knows.
LAST_CHANCE_PAUSE_SECONDS = 1.0
PROBE_WAIT_SECONDS = 1.0  # after an outage, how long a process waits while another one probes
# During an outage one process of the machine tries the API this often (the probe), whatever the
# backoff of each process: its return is seen within seconds, not after a sender's minute of backoff.
PROBE_EVERY_SECONDS = 5.0
AUDIT_EMIT = "alvin_integration.emit"  # (event id, redacted payload): spooled
AUDIT_WAIT = "alvin_integration.wait"  # (timeout, budget): a flush starts waiting for the API


class Emitter:
    """Owns a spool, a client and the sender thread of this process."""

    def __init__(
        self,
        settings: Settings,
        spool: Optional[Spool] = None,
        client: Optional[AlvinClient] = None,
        breaker: Optional[CircuitBreaker] = None,
        poll_seconds: float = POLL_SECONDS,
        window: int = DELIVERY_WINDOW,
    ) -> None:
        self.settings = settings
        self.spool = spool or Spool(settings.spool_dir, settings.spool_max_bytes)
        self.client = client or AlvinClient(
            settings,
            RetryPolicy(window=max(20.0, 2 * settings.http_timeout)),
            host=host_token(),
            sleep=self._wait_unless_stopped,
            on_failed_attempt=self._attempt_failed,
        )
        self.health = SharedHealth(settings.spool_dir)
        # One process of the machine drains what others left (a backlog after an outage, the
        # events of processes that ended): a long-lived one keeps it; another takes it for a pass.
        self.drain_lock = MachineLock(SpoolDir(settings.spool_dir).drain_lock)
        self._drainer = False  # a long-lived process: keeps the drain lock once it has it
        self.ledger = DeliveredLedger(settings.spool_dir)  # what reconcile need not send again
        self.breaker = breaker or CircuitBreaker()
        self.poll_seconds = poll_seconds
        self.window = window
        self.delivered = 0
        self.dead_lettered = 0
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._thread: Optional[threading.Thread] = None
        self._count_lock = threading.Lock()
        self._pass_deadline: Optional[float] = None
        self._last_emit = 0.0
        self._flushing = 0
        self._urgent = threading.Event()  # set while a flush waits: the sender no longer steps aside
        self._last_chance = 0  # flushes of an ephemeral worker waiting: the sender tries, paced
        self._in_flight: Dict[int, float] = {}  # a delivery's token -> when it was sent (monotonic)
        self._last_answer = float("-inf")  # when the API last answered anything (monotonic)
        self._trouble = False  # an attempt failed and none succeeded since: flush does not wait
        self._pool = DaemonPool(self.window, "alvin-delivery")
        self._gather_seconds = 0.0  # GATHER_SECONDS once the process is known to go on

    def _wait_unless_stopped(self, seconds: float) -> bool:
        """The client's wait between retries: it ends at once when the sender is stopped.

        Looked up at each call, so that it is this process's stop event after a fork.
        """
        return self._stop.wait(seconds)

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: no thread, new locks, new session, new segment."""
        self.spool.after_fork_in_child()
        self.client.reset()
        self._init_process_state()

    # -- the task-facing side ------------------------------------------------------------------

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
        self._last_emit = time.monotonic()
        self._ensure_sender()
        self._wake.set()
        sys.audit(AUDIT_EMIT, record.id, payload)
        return record.id

    def flush(self, timeout: float) -> bool:
        """Wait for this process's events while the API answers, at most ``timeout`` s; True if delivered.

        On an ephemeral worker (``Settings.ephemeral``: no later process will find the spool) it
        waits up to ``timeout`` whatever the API does, and says once when it gave up with events left.
        """
        if os.getpid() != self._pid:
            self.after_fork_in_child()
        if not self.spool.own_pending():
            return True
        if self.settings.ephemeral:
            return self._flush_before_the_disk_goes(timeout)
        if self._api_known_down() or self._api_slow():  # known here or elsewhere: do not wait for it
            return False
        self._ensure_sender()
        with self._count_lock:
            self._flushing += 1
            self._urgent.set()
        self._wake.set()
        started, budget = time.monotonic(), self._flush_budget()
        deadline = started + timeout
        sys.audit(AUDIT_WAIT, timeout, budget)
        try:
            with self._progress:
                while self.spool.own_pending():
                    # Waits while the API answers; an API silent for the budget is not waited for.
                    oldest = self._oldest_unanswered()
                    silent_since = max(self._last_answer, started if oldest is None else oldest)
                    remaining = min(deadline, silent_since + budget) - time.monotonic()
                    if remaining <= 0:
                        if oldest is not None and self._last_answer < oldest:  # a hung API: say so
                            self.health.mark_down(UNANSWERED_DOWN_SECONDS)
                        return False
                    if self.breaker.is_open() or self._trouble:
                        return False
                    self._progress.wait(min(remaining, 0.05))
        finally:
            with self._count_lock:
                self._flushing -= 1
                if not self._flushing:
                    self._urgent.clear()
        return True

    def _flush_before_the_disk_goes(self, timeout: float) -> bool:
        """The last chance of an ephemeral worker's events: the sender tries, paced, until ``timeout``."""
        self._ensure_sender()
        with self._count_lock:
            self._flushing += 1
            self._last_chance += 1
            self._urgent.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        sys.audit(AUDIT_WAIT, timeout, timeout)
        try:
            with self._progress:
                while self.spool.own_pending():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._say_events_are_lost(timeout)
                        return False
                    self._wake.set()  # a sender pausing for a failed API tries again, paced
                    self._progress.wait(min(remaining, 0.05))
        finally:
            with self._count_lock:
                self._flushing -= 1
                self._last_chance -= 1
                if not self._flushing:
                    self._urgent.clear()
        return True

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

    def _api_known_down(self) -> bool:
        if self.breaker.is_open() or self._trouble or self.health.down_for() > 0:
            return True
        return self.health.probing_elsewhere()  # after an outage, another process finds out first

    def _api_slow(self) -> bool:
        return self.health.read().get("latency", 0.0) > SLOW_API_SECONDS

    def _oldest_unanswered(self) -> Optional[float]:
        """When the oldest delivery still waiting for the API was sent; None if none is."""
        with self._count_lock:
            return min(self._in_flight.values(), default=None)

    def _flush_budget(self) -> float:
        """What a healthy API needs to answer: a multiple of its recent latency, with a floor."""
        latency = self.health.read().get("latency") or 0.0
        return max(FLUSH_FLOOR_SECONDS, FLUSH_LATENCY_FACTOR * latency)

    def _attempt_failed(self, delivery: Delivery) -> None:
        """An attempt failed (retries go on): waiting flushes here and elsewhere stop at once."""
        self._trouble = True
        self.health.mark_down(max(self.breaker.base, delivery.retry_after or 0.0))
        self._notify()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sender thread (tests and tools; task processes simply exit)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._pool.shutdown()
        self.client.close()
        self.spool.close()
        self.drain_lock.release()

    # -- the sender ----------------------------------------------------------------------------

    def deliver_in_background(self) -> None:
        """Start the sender of a long-lived process now: it drains what other processes left.

        It keeps the machine's drain lock once it has it, and drains a backlog continuously while
        the API answers; other processes then deliver only their own events.
        """
        self._drainer = True
        self._ensure_sender()

    def start_delivery_threads(self) -> None:
        """Start every thread delivery needs now: none can start while the interpreter exits.

        For a process that waits for its events at its exit (``flush_at_exit``); elsewhere the
        sender starts its workers itself, off the task's thread.
        """
        self._ensure_sender()
        self._pool.start()
        self.client.start_watchdog()

    def deliver_in_bursts(self) -> None:
        """Let events gather before each pass: for a process that goes on after its tries."""
        self._gather_seconds = GATHER_SECONDS

    def _ensure_sender(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alvin-sender", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            done_before = self.delivered + self.dead_lettered
            try:
                if self._last_chance:  # the spool ends with this process: try, paced, whatever the API did
                    self._stop.wait(min(self.breaker.seconds_left(), LAST_CHANCE_PAUSE_SECONDS))
                    self.drain_once()
                    self._notify()
                    if self.delivered + self.dead_lettered == done_before:
                        self._stop.wait(0.05)  # nothing moved (a segment held elsewhere): do not spin
                    continue
                down = self.health.down_for()  # another process saw it fail: do not pile on
                if down > 0 and not self.breaker.is_open():
                    self.breaker.pause(down)
                if self.breaker.is_open() and self.health.answered_since(self.breaker.opened_at):
                    self.breaker.success()  # another process saw the API answer: no need to wait
                if self.breaker.is_open():
                    if not (self.health.half_open() and self.health.claim_probe()):
                        self._wait_for_breaker()
                        continue
                    self.breaker.allow_probe()  # the machine's probe is this process's: try now
                if self.health.half_open() and not self.health.claim_probe():
                    self.breaker.pause(PROBE_WAIT_SECONDS)  # one process of the machine tries first
                    continue
                others = self.drain_lock.acquire()  # what other processes left: one drainer at a time
                try:
                    self._gather()
                    self.drain_once(others=others)
                finally:
                    self.health.release_probe()  # answered: the health file says how
                    if not self._drainer:
                        self.drain_lock.release()
            except Exception as exc:  # the sender must outlive any bug of ours
                log.warning("alvin-integration sender error (events stay spooled): %s", exc)
                self.breaker.failure()
                others = False
            self._notify()
            progressed = self.delivered + self.dead_lettered > done_before
            if others and progressed and not self.breaker.is_open():
                continue  # a backlog: drain on at the API's pace, while it answers
            if self.spool.own_pending() and not self.breaker.is_open():
                # More was appended meanwhile; if a segment of ours is held elsewhere, do not spin.
                if not progressed:
                    self._stop.wait(0.1)
                continue
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _wait_for_breaker(self) -> None:
        """Sleep while the circuit is open; a last-chance flush that starts meanwhile ends the wait."""
        deadline = time.monotonic() + min(self.breaker.seconds_left(), self.poll_seconds)
        while not self._stop.is_set() and not self._last_chance:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._wake.wait(left)
            self._wake.clear()

    def drain_once(self, timeout: Optional[float] = None, others: bool = True) -> bool:
        """One pass over the spool; True if everything this process could claim was delivered.

        With ``timeout``, no delivery in this pass retries beyond it; ``others``: other processes'
        segments too, not only this process's.
        """
        self._pass_deadline = None if timeout is None else time.monotonic() + timeout
        try:
            # a delivery is bounded by its window (the client cuts requests at the deadline)
            settle = self.client.policy.window + MAX_YIELD_SECONDS + 5.0
            return self.spool.drain(self._submit, self._stop.is_set, self.window, settle, others)
        finally:
            self._pass_deadline = None

    def _submit(self, record: Record) -> Future[Verdict]:
        return self._pool.submit(lambda: self._deliver(record))

    def _gather(self) -> None:
        """Wait until events have gathered (and the task's thread is quiet), or a flush waits."""
        started, gather = time.monotonic(), self._gather_seconds
        while gather and not self._stop.is_set():
            now = time.monotonic()
            left = max(started + gather - now, self._last_emit + QUIET_SECONDS - now)
            left = min(left, started + gather + MAX_YIELD_SECONDS - now)
            if left <= 0 or self._urgent.wait(left):
                return

    def _step_aside_while_emitting(self) -> None:
        # A flush that starts meanwhile ends the wait at once: the task's thread is then waiting
        # for this delivery (at a try's end, emit and flush follow each other within microseconds).
        started = time.monotonic()
        while (
            time.monotonic() - self._last_emit < QUIET_SECONDS
            and time.monotonic() - started < MAX_YIELD_SECONDS
            and not self._stop.is_set()
        ):
            if self._urgent.wait(QUIET_SECONDS):
                return

    def _deliver(self, record: Record) -> Verdict:
        self._step_aside_while_emitting()
        if self.breaker.is_open() and not self._last_chance:  # another delivery just failed: do not pile on
            return Verdict.STOP
        deadline = time.monotonic() + self.client.policy.window
        if self._pass_deadline is not None:
            deadline = min(deadline, self._pass_deadline)
        started, token = time.monotonic(), object()
        with self._count_lock:
            self._in_flight[id(token)] = started
        try:
            delivery = self.client.send(record, deadline)
        finally:
            with self._count_lock:
                del self._in_flight[id(token)]
        if delivery.status:  # the API answered (anything): it is not hung
            self._last_answer = time.monotonic()
        if delivery.outcome == Outcome.DELIVERED:
            self._trouble = False
            self.health.mark_up(time.monotonic() - started)
        with self._count_lock:
            verdict = self._judge(record, delivery)
        self._notify()
        return verdict

    def _judge(self, record: Record, delivery: Delivery) -> Verdict:
        if delivery.outcome == Outcome.DELIVERED:
            self.breaker.success()
            self.delivered += 1
            self.ledger.record(record.id)
            if self.settings.verbose_log:
                log.info("alvin-integration delivered %s to %s", record.id, record.path)
            return Verdict.DONE
        if delivery.outcome == Outcome.REJECTED:
            self.breaker.success()
            self.dead_lettered += 1
            self.spool.dead_letter(record, delivery.status, delivery.detail)
            self.ledger.record(record.id)  # settled: a resend would be refused the same way
            log.warning(
                "alvin-integration: the Alvin API rejected event %s (HTTP %s: %s); it was moved to "
                "%s and will not be retried",
                record.id,
                delivery.status,
                delivery.detail,
                self.spool.dead_letter_path,
            )
            return Verdict.DONE
        if delivery.outcome == Outcome.REFUSED:
            self.breaker.pause(REFUSED_PAUSE_SECONDS)
            status = delivery.status or 0
            if status in (401, 403):
                what, fix = "API key rejected", "check ALVIN_API_KEY"
            elif 300 <= status < 400:
                what, fix = delivery.detail.split(":", 1)[0], "set ALVIN_URL to the API's final URL"
            else:
                what, fix = "endpoint not found", "check ALVIN_URL"
            log_once(
                f"refused-{delivery.status}",
                logging.ERROR,
                "alvin-integration: %s by %s (HTTP %s); %s (alvin-integration doctor tells more). "
                "Events are kept in the spool and sent once this is fixed.",
                what,
                self.client.url_for(record.path),
                delivery.status,
                fix,
            )
            return Verdict.STOP
        self.breaker.failure(delivery.retry_after or 0.0)
        self._trouble = True
        # The machine tries again sooner than this process's backoff (one probe, by whoever claims
        # it), unless the API said when: else a long-lived sender's minute of backoff would hold
        # every process back that long after the API's return.
        self.health.mark_down(
            max(min(self.breaker.seconds_left(), PROBE_EVERY_SECONDS), delivery.retry_after or 0.0)
        )
        log_once(
            "api-unavailable",
            logging.WARNING,
            "alvin-integration: the Alvin API at %s is not answering (%s); events are kept in the "
            "spool and sent when it is back",
            self.settings.url,
            delivery.detail or f"HTTP {delivery.status}",
        )
        return Verdict.STOP

    def _notify(self) -> None:
        with self._progress:
            self._progress.notify_all()


# -- the process-wide emitter ---------------------------------------------------------------------

_emitter: Optional[Emitter] = None
_emitter_lock = threading.Lock()


def host_changed(token: str) -> None:
    """The producer named the host (``host.configure_host``): the emitter's next request says so."""
    emitter = _emitter
    if emitter is not None and emitter.client.host != token:
        emitter.client.host = token
        emitter.client.reset()


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
        return emitter.flush(timeout) if emitter is not None else True
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
            _emitter.deliver_in_bursts()
            _emitter.start_delivery_threads()
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
