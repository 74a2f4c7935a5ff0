"""A real HTTP server on loopback that misbehaves on cue, to test delivery against faults.

Each request takes the next mode from a script (then the default mode). Modes:
``ok`` (200), ``slow:<seconds>`` (200 after a delay), ``status:<code>`` (e.g. ``status:503``),
``retry_after:<value>`` (429 with that ``Retry-After``), ``echo:<code>`` (that status, the request's
headers and body echoed back, as a careless proxy might), ``hang`` (read the request, never
answer), ``close`` (close without a response), ``reset`` (RST the connection).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections import deque
from typing import Deque, Dict, List, Optional


class FaultServer:
    """Threaded raw-socket HTTP/1.1 server whose answers follow a script of modes."""

    def __init__(self, default: str = "ok") -> None:
        self.default = default
        self.script: Deque[str] = deque()
        self.requests: List[Dict[str, object]] = []
        self._lock = threading.Lock()
        self._hung: List[socket.socket] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def queue(self, *modes: str) -> None:
        """Answer the next requests with these modes, in order."""
        with self._lock:
            self.script.extend(modes)

    def keys(self, status: Optional[int] = None) -> List[str]:
        """Idempotency keys received (optionally only those answered with ``status``)."""
        with self._lock:
            return [str(r["key"]) for r in self.requests if status is None or r["status"] == status]

    def close(self) -> None:
        """Stop accepting and drop every connection, hung ones included."""
        self._closed.set()
        self._sock.close()
        with self._lock:
            for conn in self._hung:
                conn.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        peer = conn.getpeername()[1]  # the client's port: one per connection
        try:
            while True:
                request = self._read_request(reader)
                if request is None:
                    return
                with self._lock:
                    mode = self.script.popleft() if self.script else self.default
                status = self._status_of(mode)
                with self._lock:
                    self.requests.append({**request, "mode": mode, "status": status, "peer": peer})
                if mode == "hang":
                    with self._lock:
                        self._hung.append(conn)
                    self._closed.wait()
                    return
                if mode == "close":
                    return
                if mode.startswith("slow:"):
                    self._closed.wait(float(mode.split(":", 1)[1]))
                if mode == "reset":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if mode == "drip":  # the whole answer, one byte a second (headers included)
                    answer = b'HTTP/1.1 200 X\r\nContent-Length: 20\r\n\r\n{"status":"dripped"}'
                    for byte in answer:
                        if self._closed.wait(1.0):
                            return
                        conn.sendall(bytes([byte]))
                    continue
                if mode.startswith("huge:"):  # a 4xx answer with a body of that many MB
                    size = int(mode.split(":", 1)[1]) * 1024 * 1024
                    conn.sendall(f"HTTP/1.1 400 X\r\nContent-Length: {size}\r\n\r\n".encode())
                    chunk = b"x" * (1024 * 1024)
                    for _ in range(size // len(chunk)):
                        conn.sendall(chunk)
                    continue
                if mode.startswith("redirect:"):
                    location = mode.split(":", 1)[1]
                    conn.sendall(
                        f"HTTP/1.1 301 X\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
                    )
                    continue
                extra = ""
                if mode.startswith("retry_after:"):
                    extra = f"Retry-After: {mode.split(':', 1)[1]}\r\n"
                body = b'{"status":"fault-server"}'
                if mode.startswith("echo:"):
                    body = repr(request).encode()
                conn.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    @staticmethod
    def _status_of(mode: str) -> int:
        if mode == "ok" or mode == "drip" or mode.startswith("slow:"):
            return 200
        if mode.startswith(("status:", "echo:")):
            return int(mode.split(":", 1)[1])
        if mode.startswith("retry_after:"):
            return 429
        return 0  # no HTTP answer at all

    @staticmethod
    def _read_request(reader) -> Optional[Dict[str, object]]:
        line = reader.readline()
        if not line:
            return None
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: Dict[str, str] = {}
        while True:
            header = reader.readline().decode("latin-1").strip()
            if not header:
                break
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = reader.read(int(headers.get("content-length", "0")))
        return {
            "method": method,
            "path": path,
            "headers": headers,
            "body": body,
            "key": headers.get("idempotency-key"),
        }


def refused_url() -> str:
    """A loopback URL where nothing listens: connecting is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
