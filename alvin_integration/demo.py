"""``alvin-integration demo``: the example DAG through this Airflow, reported to a local mock API.

A temporary Airflow home with SQLite, the mock backend on a free port, the bundled example DAG run
with the integration on, then a table of what the mock Alvin API received.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

from alvin_integration.config import load_settings
from alvin_integration.emitter import Emitter
from alvin_integration.examples import EXAMPLE_CONNECTIONS
from alvin_integration.mock_backend.server import make_server, start_in_thread
from alvin_integration.mock_backend.store import Store

DEMO_API_KEY = "demo-api-key-123456"
RUN_DATE = "2026-11-01"


def _airflow(env: Dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    airflow = os.path.join(os.path.dirname(sys.executable), "airflow")
    return subprocess.run([airflow, *args], env=env, cwd=env["AIRFLOW_HOME"], capture_output=True, text=True)


def table(store: Store) -> List[str]:
    """What the mock API received, one line per task try or DAG run."""
    rows = [("job", "try", "last event", "state", "inputs", "outputs")]
    for item in store.events(event_type=None):
        event = item["event"]
        if event["eventType"] == "START":
            continue
        details = event["run"]["facets"].get("alvin", {})
        rows.append(
            (
                event["job"]["name"],
                str(details.get("try_number", "")),
                event["eventType"],
                str(details.get("state", "")),
                ", ".join(f"{d['namespace']}/{d['name']}" for d in event.get("inputs", [])) or "-",
                ", ".join(f"{d['namespace']}/{d['name']}" for d in event.get("outputs", [])) or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def serve_until_interrupted(url: str, out: Callable[[str], None]) -> None:
    """Keep the mock API (serving in its thread) up until Ctrl-C, its explorer's URL printed."""
    out(f"==> the lineage explorer: {url}/  (runs; the graph at {url}/lineage). Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out("")


def run_demo(keep: bool = False, out: Callable[[str], None] = print, serve: bool = False) -> int:
    """Run the demo; 0 when the mock API received events. ``serve``: then show them until Ctrl-C."""
    try:
        from alvin_integration.producers.airflow import version_compat
    except Exception:  # no Airflow in this environment
        out("alvin-integration demo needs Airflow in this Python environment; `make demo` creates one.")
        return 1
    home = tempfile.mkdtemp(prefix="alvin-demo-")
    server = make_server(db=os.path.join(home, "alvin.db"))
    start_in_thread(server)
    dags = os.path.join(home, "dags")
    os.makedirs(dags)
    shutil.copy(os.path.join(os.path.dirname(__file__), "examples", "alvin_example.py"), dags)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALVIN_", "AIRFLOW_", "AIRFLOW__"))}
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__DAGS_FOLDER=dags,
        AIRFLOW__CORE__LOAD_EXAMPLES="false",
        # where the demo runs a backfill (1.10-2.2), it looks at its tries once a second, not every 5 s
        AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC="1",
        PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
        ALVIN_URL=server.url,
        ALVIN_API_KEY=DEMO_API_KEY,
        ALVIN_PLATFORM_ID="demo",
        ALVIN_EXAMPLE_RETRY_MARKER=os.path.join(home, "retry-marker"),
    )
    env.update(EXAMPLE_CONNECTIONS)
    if version_compat.NEEDS_LINEAGE_BACKEND:
        env["AIRFLOW__LINEAGE__BACKEND"] = version_compat.LINEAGE_BACKEND_CLASS
    version = version_compat.AIRFLOW_VERSION_TEXT
    run = version_compat.run_dag_command(
        "alvin_example", RUN_DATE, task_processes=False, version_text=version
    )
    try:
        out(f"==> Airflow {version}; temporary home {home}; mock Alvin API on {server.url}")
        for command in version_compat.INIT_DB_COMMANDS:
            if _airflow(env, *command).returncode == 0:
                break
        out(f"==> airflow {' '.join(run)} (one task fails on purpose, one retries)")
        _airflow(env, *run)
        loaded = load_settings(env)
        if loaded.settings is not None:  # deliver what finished processes left spooled
            emitter = Emitter(loaded.settings)
            emitter.sender.drain_once(timeout=30)
            emitter.close(timeout=1)
        out("==> what the Alvin API received")
        for line in table(server.store):
            out(line)
        received = server.store.count()
        out(f"({received} events)")
        if received and serve:
            serve_until_interrupted(server.url, out)
        return 0 if received else 1
    finally:
        server.shutdown()
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
