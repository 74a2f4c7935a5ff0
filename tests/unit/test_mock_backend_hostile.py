"""The mock API against hostile requests: bad lengths, deep JSON, odd stored events, many clients."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from typing import List
from urllib.parse import urlsplit

import pytest

from alvin_integration.mock_backend.server import MockAlvinServer
from tests.support.events import API_KEY, task_event


def raw_request(server: MockAlvinServer, head: str, body: bytes = b"") -> bytes:
    """Send bytes as they are; return the whole answer (an empty one is a dropped connection)."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(head.encode() + b"\r\n" + body)
        conn.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


@pytest.mark.parametrize("length", ["-5", "abc", "1e3", "0x10"])
def test_a_bad_content_length_gets_a_400(mock_backend: MockAlvinServer, length: str) -> None:
    head = f"POST /api/v1/lineage HTTP/1.1\r\nHost: x\r\nX-API-KEY: k\r\nContent-Length: {length}\r\n"
    answer = raw_request(mock_backend, head)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_very_deep_json_gets_a_400(mock_backend: MockAlvinServer) -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    head = (
        "POST /api/v1/lineage HTTP/1.1\r\nHost: x\r\nX-API-KEY: k\r\nIdempotency-Key: deep\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    answer = raw_request(mock_backend, head, body)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]


def test_one_odd_stored_event_does_not_break_the_page(mock_backend: MockAlvinServer) -> None:
    odd = {"job": {"name": "odd"}, "run": {"runId": "r1", "facets": "not a mapping"}, "inputs": "nope"}
    mock_backend.store.add_event("odd", odd, json.dumps(odd).encode())
    mock_backend.store.add_event("garbled", {"run": {"runId": "r2"}}, b"{not json")
    with urllib.request.urlopen(mock_backend.url + "/", timeout=10) as response:
        assert response.status == 200 and b"odd" in response.read()


def test_fifty_clients_at_once_get_answers(mock_backend: MockAlvinServer) -> None:
    start = threading.Barrier(50)
    statuses: List[int] = []
    errors: List[str] = []

    def client(i: int) -> None:
        body = json.dumps(task_event(i).to_dict()).encode()
        request = urllib.request.Request(
            mock_backend.url + "/api/v1/lineage",
            data=body,
            method="POST",
            headers={"X-API-KEY": API_KEY, "Idempotency-Key": f"k-{i}", "Content-Type": "application/json"},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                statuses.append(response.status)
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and statuses == [200] * 50
