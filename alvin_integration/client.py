"""HTTP transport to the Alvin API: keep-alive connections, auth header, timeouts, retries, outcomes.

``AlvinClient.send`` never raises for network or HTTP trouble; it returns a ``Delivery`` that says
what the sender should do with the record: it was accepted, it was rejected (dead-letter it), the
API refused our key or URL (keep it, pause), or try again later.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Dict, NamedTuple, Optional

import requests
import urllib3
from urllib3.exceptions import ProtocolError

from alvin_integration import __version__
from alvin_integration.config import Settings
from alvin_integration.deadline import Attempt, Watchdog, watched_pool_classes
from alvin_integration.logs import get_logger
from alvin_integration.spool import Record

log = get_logger(__name__)


class Outcome(str, Enum):
    """What sending one record came to, as the sender needs to know it."""

    DELIVERED = "delivered"
    REJECTED = "rejected"  # a 4xx for this event: retrying cannot help
    REFUSED = "refused"  # 401/403/404/405 or a redirect: our key or URL is wrong for every event
    RETRY_LATER = "retry_later"  # the API is down, slow or busy: keep the record, try again later


RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
CONFIG_STATUS = frozenset({401, 403, 404, 405})
# Of an answer we keep at most this much (the error detail); the rest is never read.
MAX_ANSWER_BYTES = 8 * 1024
POOL_SIZE = 4  # kept-alive connections per host: the sender's delivery window


class Answer(NamedTuple):
    """What the API answered one request: what of it we read, a bounded prefix of its body."""

    status: int
    detail: str  # the body's start, on one line
    retry_after: Optional[float]  # seconds, from a Retry-After header
    location: str  # a redirect's Location header, or ""


def _tls_options(verify: bool | str) -> Dict[str, Any]:
    """urllib3's TLS options for ``verify`` as requests reads it: on (its CA bundle), off, or a path."""
    if verify is False:
        return {"cert_reqs": "CERT_NONE"}
    bundle = requests.utils.DEFAULT_CA_BUNDLE_PATH if verify is True else str(verify)
    where = "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs"
    return {"cert_reqs": "CERT_REQUIRED", where: bundle}


def connection_pools(url: str, verify: bool | str, size: int) -> urllib3.PoolManager:
    """Keep-alive pools for ``url``, through the proxy the environment names for it, if any.

    The delivery path talks to urllib3 directly: requests' session adds about a millisecond of
    the task process's CPU to every event. Proxies and TLS are read as requests reads them.
    """
    options: Dict[str, Any] = dict(_tls_options(verify), num_pools=2, maxsize=size)
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    if proxy and proxy.lower().startswith("socks"):  # its own pools: requests are cut by read timeouts
        from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks, as requests does

        return SOCKSProxyManager(proxy, **options)  # type: ignore[no-any-return]
    manager: urllib3.PoolManager
    if proxy:
        username, password = requests.utils.get_auth_from_url(proxy)
        auth = urllib3.util.make_headers(proxy_basic_auth=f"{username}:{password}") if username else None
        manager = urllib3.ProxyManager(proxy, proxy_headers=auth, **options)
    else:
        manager = urllib3.PoolManager(**options)
    manager.pool_classes_by_scheme = watched_pool_classes()  # type: ignore[assignment]
    return manager


@dataclass(frozen=True)
class RetryPolicy:
    """How long one record is retried before the sender gives up on it for now."""

    base_delay: float = 0.5
    max_delay: float = 10.0
    max_retry_after: float = 60.0
    window: float = 20.0  # one overall deadline for all attempts at one record

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given (0-based) attempt."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2 ** min(attempt, 32))))


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one record."""

    outcome: Outcome
    status: Optional[int] = None
    detail: str = ""
    retry_after: Optional[float] = None
    attempts: int = 1


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def user_agent(host: str = "") -> str:
    """``alvin-integration/<v>`` followed by the host's product token (``airflow/<v>``)."""
    return f"alvin-integration/{__version__} {host}".strip()


class AlvinClient:
    """Sends records to the Alvin API over keep-alive connections."""

    def __init__(
        self,
        settings: Settings,
        policy: Optional[RetryPolicy] = None,
        host: Callable[[], str] = lambda: "",
        sleep: Optional[Callable[[float], Any]] = None,
        on_failed_attempt: Optional[Callable[[Delivery], None]] = None,
    ) -> None:
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.host = host  # the host's product token, read at each request (``host.host_token``)
        self._sleep = sleep or time.sleep  # returning True means "stop retrying" (the sender stops)
        # told of every failed attempt at once, while the retries go on (a failure is news)
        self._on_failed_attempt = on_failed_attempt
        self._watchdog = Watchdog()
        self._pools: Optional[urllib3.PoolManager] = None
        self._pools_lock = threading.Lock()

    def reset(self) -> None:
        """Drop connections (after a fork the parent's sockets must not be shared), and the watchdog."""
        self._watchdog = Watchdog()
        self._pools = None
        self._pools_lock = threading.Lock()

    def start_watchdog(self) -> None:
        """Start the thread that cuts requests at their deadlines now, while threads can start."""
        self._watchdog.start()

    def close(self) -> None:
        """Stop the watchdog's thread (tests and tools; a task process simply exits)."""
        self._watchdog.stop()
        self._watchdog = Watchdog()  # started again if the client is used after all

    @property
    def pools(self) -> urllib3.PoolManager:
        """The keep-alive connections of the delivery path, shared by the sender's threads."""
        pools = self._pools
        if pools is None:
            with self._pools_lock:
                pools = self._pools
                if pools is None:
                    pools = connection_pools(self.settings.url, self.settings.tls_verify, POOL_SIZE)
                    self._pools = pools
        return pools

    def headers(self, body: Optional[bytes] = None, record_id: str = "") -> Dict[str, str]:
        """What a request of ours carries: the key, JSON, the User-Agent; an event's id; a body's length."""
        headers = {
            "X-API-KEY": self.settings.api_key,
            "Content-Type": "application/json",
            "User-Agent": user_agent(self.host()),
        }
        if record_id:
            headers["Idempotency-Key"] = record_id
        if body is not None:
            headers["Content-Length"] = str(len(body))
        return headers

    def url_for(self, path: str) -> str:
        """The absolute URL of an API path."""
        return self.settings.url + path

    def send(self, record: Record, deadline: Optional[float] = None) -> Delivery:
        """POST one record, retrying transient failures until the overall deadline."""
        deadline = time.monotonic() + self.policy.window if deadline is None else deadline
        data = record.body
        attempt = 0
        last: Optional[Delivery] = None  # the last failed attempt, its wait as its retry_after
        while True:
            attempt += 1
            delivery = self._attempt(record, data, deadline)
            if delivery.outcome != Outcome.RETRY_LATER:
                return Delivery(delivery.outcome, delivery.status, delivery.detail, None, attempt)
            if last is not None and delivery.status is None and time.monotonic() >= deadline:
                # the deadline cut this attempt short: the cause is what the one before it got
                return Delivery(Outcome.RETRY_LATER, last.status, last.detail, last.retry_after, attempt)
            if self._on_failed_attempt is not None:
                self._on_failed_attempt(delivery)
            wait = self.policy.backoff(attempt - 1)
            if delivery.retry_after is not None:  # capped where it was read
                wait = delivery.retry_after
            last = Delivery(Outcome.RETRY_LATER, delivery.status, delivery.detail, wait, attempt)
            # True: stopped. A deadline passed during the wait keeps this attempt's cause as the detail.
            if (
                time.monotonic() + wait >= deadline
                or self._sleep(wait) is True
                or time.monotonic() >= deadline
            ):
                return last

    def _attempt(self, record: Record, data: bytes, deadline: float) -> Delivery:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Delivery(Outcome.RETRY_LATER, detail="deadline reached")
        timeout = min(self.settings.http_timeout, remaining)
        with self._watchdog.attempt(remaining) as attempt:  # the whole request, body included
            try:
                status, detail, retry_after, location = self._post(record, data, timeout, attempt)
            except Exception as exc:  # urllib3's errors, also when a cut socket ends a read
                if attempt.expired:
                    return Delivery(
                        Outcome.RETRY_LATER, detail=f"timed out: no complete answer within {remaining:.1f} s"
                    )
                return Delivery(Outcome.RETRY_LATER, detail=f"{type(exc).__name__}: {_short(str(exc))}")
        if retry_after is not None:  # an API's "come back tomorrow" never stops delivery for long
            retry_after = min(retry_after, self.policy.max_retry_after)
        if 300 <= status < 400:
            where = f" to {location}" if location else ""
            return Delivery(
                Outcome.REFUSED, status, f"redirected{where}: set ALVIN_URL to the API's final URL"
            )
        if 200 <= status < 300:
            return Delivery(Outcome.DELIVERED, status)
        if status in RETRYABLE_STATUS:
            return Delivery(Outcome.RETRY_LATER, status, detail, retry_after)
        if status in CONFIG_STATUS:
            return Delivery(Outcome.REFUSED, status, detail)
        if 400 <= status < 500:
            return Delivery(Outcome.REJECTED, status, detail)
        return Delivery(Outcome.RETRY_LATER, status, detail, retry_after)

    def _post(self, record: Record, data: bytes, timeout: float, attempt: Attempt) -> Answer:
        """POST one record within ``timeout`` per read (connecting within 5 s at most)."""
        limits = urllib3.Timeout(connect=min(timeout, 5.0), read=timeout)
        return self._request("POST", record.path, data, self.headers(data, record.id), limits, attempt)

    def _request(
        self,
        method: str,
        path: str,
        body: Optional[bytes],
        headers: Dict[str, str],
        timeout: urllib3.Timeout,
        attempt: Attempt,
    ) -> Answer:
        """Send once, twice if a kept-alive connection turns out closed; the API's answer."""
        for first_try in (True, False):
            try:
                response = self.pools.urlopen(
                    method,
                    self.url_for(path),
                    body=body,
                    headers=headers,
                    timeout=timeout,
                    retries=False,
                    redirect=False,
                    preload_content=False,  # the answer is read below, a bounded prefix of it
                )
            except ProtocolError:  # the server may have closed an idle connection as we reused it
                if attempt.expired or not (first_try and attempt.reused):
                    raise
                continue
            break
        read_to_its_end = False
        try:
            answer = response.read(MAX_ANSWER_BYTES, decode_content=True) or b""
            read_to_its_end = len(answer) < MAX_ANSWER_BYTES
            detail = _short(answer.decode("utf-8", "replace"))
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return Answer(response.status, detail, retry_after, response.headers.get("Location", ""))
        finally:
            if read_to_its_end:  # the connection is kept alive for the next event
                response.release_conn()
            else:  # an unread rest, or a read that failed (cut at the deadline): closed, not drained
                response.close()
                response.release_conn()  # its slot goes back to the pool, which connects anew

    def ask(self, method: str, path: str, timeout: float, body: Optional[bytes] = None) -> Answer:
        """One request on the delivery path's connections, not retried, not redirected (``doctor``).

        ``timeout`` bounds connecting and each read; urllib3's errors are raised.
        """
        with self._watchdog.attempt(None) as attempt:  # no deadline: told its connection only
            limits = urllib3.Timeout(connect=timeout, read=timeout)
            return self._request(method, path, body, self.headers(body), limits, attempt)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
