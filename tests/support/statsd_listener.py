"""A real StatsD server on loopback: a UDP socket that keeps every metric line it receives."""

from __future__ import annotations

import socket
import threading
from typing import Dict, List, Tuple


class StatsdListener:
    """Receives StatsD datagrams (``name:value|type``, several per datagram) on 127.0.0.1."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.lines: List[str] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while not self._closed.is_set():
            try:
                data = self._sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.lines.extend(line for line in data.decode("utf-8", "replace").splitlines() if line)

    def metrics(self, suffix: str) -> List[Tuple[float, str]]:
        """(value, type) of every line whose name ends with ``suffix`` (any prefix, e.g. ``airflow.``)."""
        found = []
        with self._lock:
            for line in self.lines:
                name, _, rest = line.partition(":")
                if name.endswith(suffix):
                    value, _, kind = rest.partition("|")
                    found.append((float(value), kind.split("|")[0]))
        return found

    def total(self, suffix: str) -> float:
        """The sum of a counter's increments."""
        return sum(value for value, kind in self.metrics(suffix) if kind == "c")

    def env(self, airflow_2_plus: bool) -> Dict[str, str]:
        """Airflow's settings that send its metrics here (1.10: the [scheduler] section)."""
        section = "METRICS" if airflow_2_plus else "SCHEDULER"
        return {
            f"AIRFLOW__{section}__STATSD_ON": "True",
            f"AIRFLOW__{section}__STATSD_HOST": "127.0.0.1",
            f"AIRFLOW__{section}__STATSD_PORT": str(self.port),
            f"AIRFLOW__{section}__STATSD_PREFIX": "airflow",
        }

    def close(self) -> None:
        """Stop receiving."""
        self._closed.set()
        self._sock.close()
