"""Loaded by every Python process whose PYTHONPATH names this folder (tests/e2e only).

It records, as JSON lines in ``$ALVIN_TEST_AUDIT_LOG``, with the process and thread that did it:
what we spooled (``alvin_integration.emit``: its id and redacted payload), every wait of ours for the API
(``alvin_integration.wait``), and every connection to the API's port
(``$ALVIN_TEST_AUDIT_PORT``). An audit hook that raised would break the host's operation, so this
one never raises.
"""

import json
import os
import sys
import threading
from typing import Any, Tuple

_LOG = os.environ.get("ALVIN_TEST_AUDIT_LOG", "")
_PORT = int(os.environ.get("ALVIN_TEST_AUDIT_PORT", "0") or 0)


def _write(kind: str, **fields: Any) -> None:
    line = {"pid": os.getpid(), "argv": sys.argv[1:4], "thread": threading.current_thread().name}
    line.update(kind=kind, **fields)
    descriptor = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (json.dumps(line, default=str) + "\n").encode())  # one line: atomic append
    finally:
        os.close(descriptor)


def _emitted(payload: Any) -> None:
    run = payload.get("run") if isinstance(payload, dict) else None
    details = (run or {}).get("facets", {}).get("alvin", {})
    kind = "metadata" if run is None else "task" if "task_id" in details else "dag_run"
    job = payload.get("job", {}).get("name") if run is not None else None
    _write("emit", event=kind, type=payload.get("eventType"), job=job, run=details.get("run_id"))


def _hook(event: str, args: Tuple[Any, ...]) -> None:
    try:
        if event == "alvin_integration.emit":
            _emitted(args[1])
        elif event == "alvin_integration.wait":
            _write("wait", timeout=args[0], budget=args[1])
        elif event == "socket.connect" and isinstance(args[1], tuple) and args[1][1:2] == (_PORT,):
            _write("connect", address=list(args[1][:2]))
    except BaseException:  # never into the host's operation
        pass


if _LOG:
    sys.addaudithook(_hook)
