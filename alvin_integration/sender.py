"""The sender: one daemon thread that delivers what the spool holds, and what each answer means.

Passes over the spool run on the sender's thread, up to a window of deliveries in flight at once
on daemon workers (each run's events in order). Each delivery's outcome becomes a verdict for the
spool (done, or stop this pass), a step of the circuit breaker, and news for the machine's
shared health file. One process of the machine drains what others left (the drain lock); after an
outage one process at a time probes the API. What the sender knows of the API (requests
unanswered, the last answer, a failure since the last success) is what a waiting flush reads.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional

from alvin_integration.circuit import CircuitBreaker, SharedHealth
from alvin_integration.client import AlvinClient, Delivery, Outcome, RetryPolicy
from alvin_integration.config import Settings
from alvin_integration.host import host_token
from alvin_integration.ledger import DeliveredLedger
from alvin_integration.logs import get_logger, log_once
from alvin_integration.machine_lock import MachineLock
from alvin_integration.metrics import Counts, HealthMetrics
from alvin_integration.spool import Record, Spool, Verdict
from alvin_integration.spool_dir import SpoolDir
from alvin_integration.workers import DaemonPool

log = get_logger(__name__)

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
# An ephemeral worker's last chance: while its try's end waits, the sender tries again this often
# after a failure (the circuit's longer pauses would outlast the pod), whatever the machine knows.
LAST_CHANCE_PAUSE_SECONDS = 1.0
PROBE_WAIT_SECONDS = 1.0  # after an outage, how long a process waits while another one probes
# During an outage one process of the machine tries the API this often (the probe), whatever the
# backoff of each process: its return is seen within seconds, not after a sender's minute of backoff.
PROBE_EVERY_SECONDS = 5.0


class Sender:
    """The sender thread of one process: passes over the spool, verdicts, backoff, the drain lock."""

    def __init__(
        self,
        settings: Settings,
        spool: Spool,
        client: Optional[AlvinClient] = None,
        breaker: Optional[CircuitBreaker] = None,
        poll_seconds: float = POLL_SECONDS,
        window: int = DELIVERY_WINDOW,
    ) -> None:
        self.settings = settings
        self.spool = spool
        self.client = client or AlvinClient(
            settings,
            RetryPolicy(window=max(20.0, 2 * settings.http_timeout)),
            host=host_token,  # named by the producer, maybe after this client was made
            sleep=self._wait_unless_stopped,
            on_failed_attempt=self._attempt_failed,
        )
        self.health = SharedHealth(settings.spool_dir)
        # One process of the machine drains what others left (a backlog after an outage, the
        # events of processes that ended): a long-lived one keeps it; another takes it for a pass.
        # held by the process that drains what others left (one per machine)
        self.drain_lock = MachineLock(SpoolDir(settings.spool_dir).drain_lock)
        self._keeps_drain_lock = False  # a long-lived process: keeps the drain lock once it has it
        self.ledger = DeliveredLedger(settings.spool_dir)  # what reconcile need not send again
        self.breaker = breaker or CircuitBreaker()
        self.poll_seconds = poll_seconds
        self.window = window
        self.delivered = 0
        self.dead_lettered = 0
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()  # notified after every delivery and every pass
        self._thread: Optional[threading.Thread] = None
        self._verdict_lock = threading.Lock()  # one delivery's outcome is judged at a time
        self._pass_deadline: Optional[float] = None
        self._last_emit = 0.0
        self._flushes_lock = threading.Lock()  # guards the two counts of waiting flushes below
        self._flushes_waiting = 0
        self._last_chance_flushes = 0  # flushes of an ephemeral worker waiting: the sender tries, paced
        self._urgent = threading.Event()  # set while a flush waits: the sender no longer steps aside
        self._in_flight_lock = threading.Lock()  # guards _in_flight
        self._in_flight: Dict[int, float] = {}  # a delivery's token -> when it was sent (monotonic)
        self._last_answer = float("-inf")  # when the API last answered anything (monotonic)
        self._failed_since_success = False  # an attempt failed and none has succeeded since
        self._pool = DaemonPool(self.window, "alvin-delivery")
        self._gather_seconds = 0.0  # GATHER_SECONDS once the process is known to go on
        self.counts = Counts()  # this process's, for the health metrics
        self._metrics = HealthMetrics()

    def after_fork_in_child(self) -> None:
        """Start over in a forked child: no thread, new locks, new connections."""
        self.client.reset()
        self._init_process_state()

    def _wait_unless_stopped(self, seconds: float) -> bool:
        """The client's wait between retries: it ends at once when the sender is stopped.

        Looked up at each call, so that it is this process's stop event after a fork.
        """
        return self._stop.wait(seconds)

    # -- what the front tells the sender, and asks of it ---------------------------------------

    def start(self, keep_drain_lock: bool = False) -> None:
        """Start the sender thread if it is not running.

        ``keep_drain_lock``: a long-lived process (the scheduler) keeps the machine's drain lock
        once it has it, and drains a backlog continuously while the API answers; other processes
        then deliver only their own events.
        """
        if keep_drain_lock:
            self._keeps_drain_lock = True
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="alvin-sender", daemon=True)
                self._thread.start()

    def start_all_threads(self) -> None:
        """Start every thread delivery needs now: none can start while the interpreter exits.

        For a process that waits for its events at its exit (``flush_at_exit``); elsewhere the
        sender starts its workers itself, off the task's thread.
        """
        self.start()
        self._pool.start()
        self.client.start_watchdog()

    def deliver_in_bursts(self) -> None:
        """Let events gather before each pass: for a process that goes on after its tries."""
        self._gather_seconds = GATHER_SECONDS

    def appended(self) -> None:
        """An event was just spooled by the task's thread: send it (stepping aside while it emits)."""
        self.counts.spooled += 1  # the task's only part in the metrics; the sender publishes
        self._last_emit = time.monotonic()
        self.start()
        self._wake.set()

    def wake(self) -> None:
        """Have the sender look at the spool now (a sender pausing for a failed API tries again)."""
        self._wake.set()

    @contextmanager
    def flush_waiting(self, last_chance: bool = False) -> Iterator[Callable[[float], bool]]:
        """While a flush waits: the sender no longer steps aside; yields the wait for its progress.

        ``last_chance``: an ephemeral worker's flush; the sender tries, paced, whatever the API did.
        """
        self.start()
        with self._flushes_lock:
            self._flushes_waiting += 1
            self._last_chance_flushes += last_chance
            self._urgent.set()
        self._wake.set()
        try:
            with self._progress:
                yield self._progress.wait
        finally:
            with self._flushes_lock:
                self._flushes_waiting -= 1
                self._last_chance_flushes -= last_chance
                if not self._flushes_waiting:
                    self._urgent.clear()

    def oldest_unanswered(self) -> Optional[float]:
        """When the oldest delivery still waiting for the API was sent; None if none is."""
        with self._in_flight_lock:
            return min(self._in_flight.values(), default=None)

    @property
    def last_answer(self) -> float:
        """When the API last answered anything (monotonic; -inf if never)."""
        return self._last_answer

    def failing(self) -> bool:
        """Whether this process knows the API is failing: its circuit is open, or an attempt failed
        and none has succeeded since."""
        return self.breaker.is_open() or self._failed_since_success

    def close(self, timeout: float = 5.0) -> None:
        """Stop the sender thread and its workers, and let the drain lock go (tests and tools)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._pool.shutdown()
        self.client.close()
        self.drain_lock.release()

    # -- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            done_before = self.delivered + self.dead_lettered
            try:
                if (
                    self._last_chance_flushes
                ):  # the spool ends with this process: try, paced, whatever the API did
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
                    if not self._keeps_drain_lock:
                        self.drain_lock.release()
            except Exception as exc:  # the sender must outlive any bug of ours
                log.warning("alvin-integration sender error (events stay spooled): %s", exc)
                self.breaker.failure()
                others = False
            self.publish_metrics()
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
        while not self._stop.is_set() and not self._last_chance_flushes:
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

    # -- one delivery and its verdict ----------------------------------------------------------

    def _deliver(self, record: Record) -> Verdict:
        self._step_aside_while_emitting()
        if self.breaker.is_open() and not self._last_chance_flushes:  # another delivery just failed
            return Verdict.STOP
        deadline = time.monotonic() + self.client.policy.window
        if self._pass_deadline is not None:
            deadline = min(deadline, self._pass_deadline)
        started, token = time.monotonic(), object()
        with self._in_flight_lock:
            self._in_flight[id(token)] = started
        try:
            delivery = self.client.send(record, deadline)
        finally:
            with self._in_flight_lock:
                del self._in_flight[id(token)]
        if delivery.status:  # the API answered (anything): it is not hung
            self._last_answer = time.monotonic()
        if delivery.outcome == Outcome.DELIVERED:
            self._failed_since_success = False
            self.health.mark_up(time.monotonic() - started)
            self.counts.delivery_took(time.monotonic() - started)
        with self._verdict_lock:
            verdict = self._judge(record, delivery)
        self.publish_metrics()  # before the flush waiting for it is told: counted before the process ends
        self._notify()
        return verdict

    def publish_metrics(self) -> None:
        """Publish this process's health where the host turned metrics on (``metrics.py``); never raises."""
        counts = self.counts
        counts.delivered, counts.rejected = self.delivered, self.dead_lettered
        counts.dropped = self.spool.dropped_events
        counts.waiting = max(0, counts.spooled - counts.delivered - counts.rejected - counts.dropped)
        counts.api_up = not self._failed_since_success
        self._metrics.publish(counts)

    def _attempt_failed(self, delivery: Delivery) -> None:
        """An attempt failed (retries go on): waiting flushes here and elsewhere stop at once."""
        self._failed_since_success = True
        self.health.mark_down(max(self.breaker.base, delivery.retry_after or 0.0))
        self._notify()

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
            self._refused(record, delivery)
            return Verdict.STOP
        self.breaker.failure(delivery.retry_after or 0.0)
        self._failed_since_success = True
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

    def _refused(self, record: Record, delivery: Delivery) -> None:
        """Our key or URL is wrong for every event: pause long, and say once how to fix it."""
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

    def _notify(self) -> None:
        with self._progress:
            self._progress.notify_all()
