"""Doctor's HTTP checks ask the API the way delivery does: its connections, its headers."""

from __future__ import annotations

import socket
import threading
from typing import Iterator

import pytest

from alvin_integration.client import AlvinClient
from alvin_integration.doctor import Status, check_api_key, check_http
from alvin_integration.emitter import LINEAGE_PATH
from alvin_integration.spool import Record
from tests.support.events import settings_for
from tests.support.fault_server import FaultServer


def test_doctor_asks_on_the_delivery_paths_connections_with_its_headers(
    fault_server: FaultServer, spool_dir: str
) -> None:
    client = AlvinClient(settings_for(fault_server.url, spool_dir), host=lambda: "airflow/2.11.0")
    fault_server.queue("ok", "status:400", "ok")
    assert check_http(client, 5).status == Status.OK
    assert check_api_key(client, 5).status == Status.OK  # an empty event refused with 400: key accepted
    client.send(Record("evt-1", LINEAGE_PATH, b'{"eventType":"START"}'))
    asked, probed, delivered = fault_server.requests
    assert (asked["method"], probed["method"], probed["body"]) == ("GET", "POST", b"{}")
    for name in ("x-api-key", "content-type", "user-agent"):
        assert asked["headers"][name] == probed["headers"][name] == delivered["headers"][name]
    assert delivered["headers"]["user-agent"].endswith(" airflow/2.11.0")
    assert asked["peer"] == probed["peer"] == delivered["peer"]  # one kept-alive connection for all three


def test_doctor_names_a_redirect(fault_server: FaultServer, spool_dir: str) -> None:
    client = AlvinClient(settings_for(fault_server.url, spool_dir))
    fault_server.queue("redirect:https://api.example.com/", "redirect:https://api.example.com/")
    http = check_http(client, 5)
    assert http.status == Status.WARN and "HTTP 301, a redirect to https://api.example.com/" in http.detail
    key = check_api_key(client, 5)
    assert key.status == Status.FAIL and "redirected (HTTP 301) to https://api.example.com/" in key.detail


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A port that answers plain HTTP to anything, a TLS handshake included."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def test_doctor_says_when_tls_fails(plain_http_port: int, spool_dir: str) -> None:
    client = AlvinClient(settings_for(f"https://127.0.0.1:{plain_http_port}", spool_dir))
    check = check_http(client, 5)
    assert check.status == Status.FAIL and check.detail.startswith("TLS handshake failed: ")
    assert "ALVIN_CA_BUNDLE" in check.fix


def test_doctor_says_when_nothing_answers_http(fault_server: FaultServer, spool_dir: str) -> None:
    client = AlvinClient(settings_for(fault_server.url, spool_dir))
    fault_server.queue("close", "close")
    check = check_http(client, 5)
    assert check.status == Status.FAIL and check.detail.startswith("no HTTP answer: ")
    key = check_api_key(client, 5)
    assert key.status == Status.FAIL and key.detail.startswith(f"POST {LINEAGE_PATH} failed: ")
