"""The mock Alvin API's HTTP server (standard library only)."""

from __future__ import annotations

import hmac
import json
import os
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from alvin_integration.mock_backend.explorer import Explorer, event_view
from alvin_integration.mock_backend.page import (
    STATIC_TYPES,
    render_event,
    render_lineage,
    render_runs,
    static_file,
)
from alvin_integration.mock_backend.store import Store
from alvin_integration.mock_backend.validate import metadata_problems, run_event_problems

MAX_BODY = 10 * 1024 * 1024


class MockAlvinServer(ThreadingHTTPServer):
    """Holds the store and the expected API key for the handler."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # 50 clients connecting at once must not find the backlog full

    def __init__(self, address: Tuple[str, int], store: Store, api_key: Optional[str]) -> None:
        super().__init__(address, _Handler)
        self.store = store
        self.api_key = api_key
        self.explorer = Explorer(store)

    @property
    def url(self) -> str:
        """The base URL clients use."""
        host, port = str(self.server_address[0]), int(self.server_address[1])
        return f"http://{host}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real API
    server: MockAlvinServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK stall every keep-alive response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the page and /api/v1/events show what arrived

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        if isinstance(payload, bytes):
            body = payload
        else:
            body = (payload if isinstance(payload, str) else json.dumps(payload)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if content_type.startswith("text/html"):
            # the explorer's pages run only their own script, whatever an event holds
            self.send_header(
                "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; form-action 'self'; base-uri 'none'",
            )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        store = self.server.store
        if url.path == "/healthz":
            self._send(200, {"status": "ok"})
        elif url.path == "/api/v1/events":
            events = store.events(query.get("job_name"), query.get("run_id"), query.get("event_type"))
            self._send(200, events)
        elif url.path == "/api/v1/metadata":
            self._send(200, store.metadata())
        elif url.path == "/api/v1/deliveries":
            self._send(200, store.deliveries())
        else:
            self._explorer(url.path, query)

    def _explorer(self, path: str, query: Dict[str, str]) -> None:
        """The explorer's pages and the JSON behind them."""
        store, explorer, page = self.server.store, self.server.explorer, "text/html; charset=utf-8"
        try:
            limit = int(query.get("limit") or 0)
            offset = int(query.get("offset") or 0)
        except ValueError:
            self._send(400, {"error": "limit and offset must be integers"})
            return
        dag_id, state = query.get("dag_id") or None, query.get("state") or None
        event = re.fullmatch(r"/(?:api/v1/)?events/(\d{1,18})", path)
        node = re.fullmatch(r"/api/v1/explorer/nodes/([a-z]\d{1,9})", path)
        static = static_file(path[len("/static/") :]) if path.startswith("/static/") else None
        if path == "/":
            runs = explorer.runs(dag_id, state, limit or 50, offset)
            self._send(200, render_runs(runs, store.count(), dag_id, state), page)
        elif path == "/api/v1/explorer/runs":
            self._send(200, explorer.runs(dag_id, state, limit or 50, offset))
        elif path == "/lineage":
            self._send(200, render_lineage(store.count()), page)
        elif path == "/api/v1/explorer/graph":
            self._send(200, explorer.graph(dag_id, limit or 500))
        elif node is not None:
            details = explorer.node(node.group(1))
            self._send(*((200, details) if details else (404, {"error": f"no such node: {node.group(1)}"})))
        elif event is not None:
            view = event_view(store, int(event.group(1)))
            if view is None:
                self._send(404, {"error": f"no such event: {event.group(1)}"})
            elif path.startswith("/api/"):
                self._send(200, view)
            else:
                self._send(200, render_event(view, store.count()), page)
        elif static is not None:
            self._send(200, static, STATIC_TYPES[os.path.splitext(path)[1]])
        else:
            self._send(404, {"error": f"no such path: {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        handlers: Dict[str, Callable[[Any], List[str]]] = {
            "/api/v1/lineage": run_event_problems,
            "/api/v1/metadata": metadata_problems,
        }
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(400, {"error": "Content-Length must be a non-negative integer"})
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._send(413, {"error": f"body larger than {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length)
        if len(body) < length:  # the client went away mid-request: there is nothing to answer
            self.close_connection = True
            return
        key = self.headers.get("Idempotency-Key")
        try:
            status, reply = self._post(path, body, key, handlers)
        except RecursionError:  # JSON nested deeper than Python can follow
            status, reply = 400, {"error": "body is nested too deeply"}
        except Exception as exc:  # an answer, never a dropped connection
            status, reply = 500, {"error": f"the mock API failed on this request: {type(exc).__name__}"}
        if not (status == 200 and path == "/api/v1/lineage"):  # an accepted event logs itself
            self.server.store.record_delivery(key, path, body, status, self.headers.get("User-Agent"))
        self._send(status, reply)

    def _post(
        self,
        path: str,
        body: bytes,
        key: Optional[str],
        handlers: Dict[str, Callable[[Any], List[str]]],
    ) -> Tuple[int, Any]:
        if path not in handlers:
            return 404, {"error": f"no such path: {path}"}
        given = self.headers.get("X-API-KEY")
        if not given:
            return 401, {"error": "missing X-API-KEY header"}
        if self.server.api_key is not None and not hmac.compare_digest(
            given.encode("utf-8", "replace"), self.server.api_key.encode("utf-8")
        ):
            return 403, {"error": "API key not accepted"}
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return 400, {"error": f"body is not JSON: {exc}"}
        problems = handlers[path](payload)
        if problems:
            return 400, {"error": "; ".join(problems)}
        if path == "/api/v1/lineage":
            if not key:
                return 400, {"error": "missing Idempotency-Key header"}
            fresh = self.server.store.add_event(key, payload, body, self.headers.get("User-Agent"))
        else:
            fresh = self.server.store.add_metadata(key, payload)
        return 200, {"status": "accepted" if fresh else "duplicate"}


def make_server(
    host: str = "127.0.0.1", port: int = 0, db: str = ":memory:", api_key: Optional[str] = None
) -> MockAlvinServer:
    """Create (not start) a server; port 0 picks a free port."""
    return MockAlvinServer((host, port), Store(db), api_key)


def start_in_thread(server: MockAlvinServer) -> threading.Thread:
    """Serve in a daemon thread (for tests and the demo)."""
    thread = threading.Thread(target=server.serve_forever, name="alvin-mock-backend", daemon=True)
    thread.start()
    return thread
