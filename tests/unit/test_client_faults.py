"""The HTTP client against a real misbehaving server: what is retried, rejected or refused."""

from __future__ import annotations

import base64
import email.utils
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from alvin_integration import __version__
from alvin_integration.client import AlvinClient, Outcome, RetryPolicy, parse_retry_after
from alvin_integration.spool import Record
from tests.support.events import API_KEY, settings_for
from tests.support.fault_server import FaultServer, refused_url

REPO = str(Path(__file__).resolve().parents[2])
FAST = RetryPolicy(base_delay=0.01, max_delay=0.05, max_retry_after=60.0, window=3.0)
RECORD = Record(id="evt-1", path="/api/v1/lineage", body=b'{"eventType":"START"}')


class Sleeps:
    """Records the waits the client asks for and sleeps a bounded fraction of them."""

    def __init__(self) -> None:
        self.waits: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.02))


def client_for(url: str, spool_dir: str, sleeps: Sleeps, **extra: str) -> AlvinClient:
    return AlvinClient(
        settings_for(url, spool_dir, **extra), FAST, host=lambda: "airflow/2.11.0", sleep=sleeps
    )


def test_accepted_event_carries_auth_and_identity_headers(fault_server: FaultServer, spool_dir: str) -> None:
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD)
    assert (delivery.outcome, delivery.attempts) == (Outcome.DELIVERED, 1)
    headers = fault_server.requests[0]["headers"]
    assert isinstance(headers, dict)
    assert headers["x-api-key"] == API_KEY
    assert headers["idempotency-key"] == "evt-1"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"alvin-integration/{__version__} airflow/2.11.0"
    assert fault_server.requests[0]["body"] == RECORD.body


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried_until_accepted(
    fault_server: FaultServer, spool_dir: str, status: int
) -> None:
    fault_server.queue(f"status:{status}", f"status:{status}", "ok")
    sleeps = Sleeps()
    delivery = client_for(fault_server.url, spool_dir, sleeps).send(RECORD)
    assert (delivery.outcome, delivery.attempts) == (Outcome.DELIVERED, 3)
    assert fault_server.keys() == ["evt-1"] * 3  # every retry is the same event id
    assert len(sleeps.waits) == 2 and all(0 <= w <= FAST.max_delay for w in sleeps.waits)


def test_one_connection_carries_event_after_event(fault_server: FaultServer, spool_dir: str) -> None:
    client = client_for(fault_server.url, spool_dir, Sleeps())
    for i in range(5):
        assert (
            client.send(Record(id=f"evt-{i}", path=RECORD.path, body=RECORD.body)).outcome
            == Outcome.DELIVERED
        )
    assert len({r["peer"] for r in fault_server.requests}) == 1  # kept alive, not a connect per event


def test_a_kept_alive_connection_closed_under_a_request_is_replaced_at_once(
    fault_server: FaultServer, spool_dir: str
) -> None:
    # A server may close an idle kept-alive connection just as the next event goes out on it: that
    # is no sign of trouble, so the event goes again at once on a new connection, not as a failure.
    failures: List[object] = []
    client = AlvinClient(
        settings_for(fault_server.url, spool_dir), FAST, sleep=Sleeps(), on_failed_attempt=failures.append
    )
    assert client.send(Record(id="evt-0", path=RECORD.path, body=RECORD.body)).outcome == Outcome.DELIVERED
    fault_server.queue("close", "ok")
    delivery = client.send(RECORD)
    assert (delivery.outcome, delivery.attempts, failures) == (Outcome.DELIVERED, 1, [])
    assert fault_server.keys() == ["evt-0", "evt-1", "evt-1"]
    assert (
        fault_server.requests[1]["peer"]
        == fault_server.requests[0]["peer"]
        != fault_server.requests[2]["peer"]
    )


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_broken_connections_are_retried(fault_server: FaultServer, spool_dir: str, mode: str) -> None:
    fault_server.queue(mode, "ok")
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD)
    assert (delivery.outcome, delivery.attempts) == (Outcome.DELIVERED, 2)


def test_a_failing_api_is_given_up_at_the_overall_deadline(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.default = "status:503"
    started = time.monotonic()
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD, deadline=time.monotonic() + 0.5)
    assert delivery.outcome == Outcome.RETRY_LATER and delivery.status == 503
    assert delivery.attempts > 1
    assert time.monotonic() - started < FAST.window  # bounded by the deadline, not the policy


def test_retry_after_seconds_is_honoured(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.queue("retry_after:2", "ok")
    sleeps = Sleeps()
    delivery = client_for(fault_server.url, spool_dir, sleeps).send(RECORD)
    assert delivery.outcome == Outcome.DELIVERED and sleeps.waits == [2.0]


def test_retry_after_http_date_is_honoured(fault_server: FaultServer, spool_dir: str) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    fault_server.queue(f"retry_after:{when}", "ok")
    sleeps = Sleeps()
    assert client_for(fault_server.url, spool_dir, sleeps).send(RECORD).outcome == Outcome.DELIVERED
    assert len(sleeps.waits) == 1 and 0 < sleeps.waits[0] <= 2.0


def test_a_huge_retry_after_is_capped_and_handed_to_the_sender(
    fault_server: FaultServer, spool_dir: str
) -> None:
    fault_server.queue("retry_after:3600")
    sleeps = Sleeps()
    delivery = client_for(fault_server.url, spool_dir, sleeps).send(RECORD)
    assert delivery.outcome == Outcome.RETRY_LATER and delivery.status == 429
    assert delivery.retry_after == FAST.max_retry_after  # capped, and the client did not sleep it
    assert sleeps.waits == []


def test_a_failed_attempt_is_announced_with_its_retry_after_capped(
    fault_server: FaultServer, spool_dir: str
) -> None:
    """What the sender writes to the machine's health file comes from this announcement."""
    fault_server.queue("retry_after:86400", "ok")
    announced: List[float] = []
    client = AlvinClient(
        settings_for(fault_server.url, spool_dir),
        FAST,
        sleep=Sleeps(),
        on_failed_attempt=lambda delivery: announced.append(delivery.retry_after or 0.0),
    )
    assert client.send(RECORD).outcome == Outcome.RETRY_LATER  # the capped wait outlasts the window
    assert announced == [FAST.max_retry_after]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (400, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (422, Outcome.REJECTED),
        (401, Outcome.REFUSED),
        (403, Outcome.REFUSED),
        (404, Outcome.REFUSED),
    ],
)
def test_client_errors_are_not_retried(
    fault_server: FaultServer, spool_dir: str, status: int, outcome: str
) -> None:
    fault_server.queue(f"status:{status}")
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD)
    assert (delivery.outcome, delivery.status, delivery.attempts) == (outcome, status, 1)


def test_a_hung_api_is_bounded_by_the_read_timeout(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.default = "hang"
    client = client_for(fault_server.url, spool_dir, Sleeps(), ALVIN_HTTP_TIMEOUT="0.3")
    delivery = client.send(RECORD, deadline=time.monotonic() + 1.0)
    assert delivery.outcome == Outcome.RETRY_LATER
    assert "Timeout" in delivery.detail or "timed out" in delivery.detail


def test_an_attempt_the_deadline_cuts_short_keeps_the_cause_before_it(
    fault_server: FaultServer, spool_dir: str
) -> None:
    fault_server.queue(
        "status:503"
    )  # then it hangs: the second attempt ends at the deadline, not its timeout
    fault_server.default = "hang"
    client = client_for(fault_server.url, spool_dir, Sleeps(), ALVIN_HTTP_TIMEOUT="60")
    delivery = client.send(RECORD, deadline=time.monotonic() + 1.0)
    assert (delivery.outcome, delivery.status, delivery.attempts) == (Outcome.RETRY_LATER, 503, 2)


def test_connection_refused_is_retry_later(spool_dir: str) -> None:
    delivery = client_for(refused_url(), spool_dir, Sleeps()).send(RECORD, deadline=time.monotonic() + 0.3)
    assert delivery.outcome == Outcome.RETRY_LATER and "ConnectionError" in delivery.detail


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert parse_retry_after(past) == 0.0


def test_a_dripping_answer_is_cut_at_the_deadline(fault_server: FaultServer, spool_dir: str) -> None:
    # one byte a second: each read is within ALVIN_HTTP_TIMEOUT, the request is not within its deadline
    fault_server.default = "drip"
    client = client_for(fault_server.url, spool_dir, Sleeps(), ALVIN_HTTP_TIMEOUT="60")
    delivery = client.send(RECORD, deadline=time.monotonic() + 2.5)
    assert delivery.outcome == Outcome.RETRY_LATER and "no complete answer within" in delivery.detail


def test_a_huge_answer_is_not_read_into_memory(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.default = "huge:150"  # a 400 with a 150 MB body
    code = f"""
import resource, sys, time
sys.path.insert(0, {REPO!r})
from tests.unit.test_client_faults import RECORD, Sleeps, client_for
client = client_for({fault_server.url!r}, {spool_dir!r}, Sleeps())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
delivery = client.send(RECORD, deadline=time.monotonic() + 30)
grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(delivery.outcome.value, delivery.status, len(delivery.detail), grown_mb)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    outcome, status, detail_length, grown_mb = result.stdout.split()
    assert (outcome, status) == (Outcome.REJECTED, "400"), result.stderr
    assert int(detail_length) <= 300 and float(grown_mb) < 32  # the 150 MB stayed on the wire


def test_a_redirect_is_reported_as_one_with_where_to(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.default = "redirect:https://api.example/v2/lineage"
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD)
    assert delivery.outcome == Outcome.REFUSED and delivery.status == 301
    assert "redirected to https://api.example/v2/lineage" in delivery.detail


def test_events_go_through_the_proxy_the_environment_names(
    fault_server: FaultServer, spool_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault server stands in for the proxy: an HTTP proxy gets the absolute URL in the request.
    proxy = fault_server.url.replace("http://", "http://proxyuser:proxy-pass-123@")
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    api = "http://alvin.invalid:8080"
    delivery = client_for(api, spool_dir, Sleeps()).send(RECORD)
    assert delivery.outcome == Outcome.DELIVERED
    request = fault_server.requests[0]
    assert request["path"] == f"{api}{RECORD.path}"
    headers = request["headers"]
    assert isinstance(headers, dict)
    expected = base64.b64encode(b"proxyuser:proxy-pass-123").decode()
    assert headers["proxy-authorization"] == f"Basic {expected}"
    assert headers["x-api-key"] == API_KEY


def test_no_proxy_sends_events_straight_to_the_api(
    fault_server: FaultServer, spool_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", refused_url())  # a proxy that would refuse every request
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    delivery = client_for(fault_server.url, spool_dir, Sleeps()).send(RECORD)
    assert delivery.outcome == Outcome.DELIVERED
    assert fault_server.requests[0]["path"] == RECORD.path
