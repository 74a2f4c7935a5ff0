"""Real processes for tests: the mock API as its own process, the CLI, scripted emitters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import urllib.request
from typing import Any, Dict, List, Optional

from tests.support.events import API_KEY

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def alvin_env(url: str, spool_dir: str, **extra: str) -> Dict[str, str]:
    """The environment of a process configured to report to ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALVIN_", "AIRFLOW__ALVIN__"))}
    env.update(
        ALVIN_URL=url,
        ALVIN_API_KEY=API_KEY,
        ALVIN_PLATFORM_ID="testplatform",
        ALVIN_SPOOL_DIR=spool_dir,
        ALVIN_HTTP_TIMEOUT="60",
        # a home of its own: never the tox environment's, never the user's
        AIRFLOW_HOME=os.path.join(spool_dir, "airflow-home"),
        AIRFLOW_CONFIG=os.path.join(spool_dir, "airflow-home", "airflow.cfg"),
        PYTHONPATH=REPO + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


class MockBackendProcess:
    """``alvin-integration mock-backend`` running as a separate process on a free port."""

    def __init__(self, db: str, api_key: Optional[str] = None, port: int = 0, nice: int = 0) -> None:
        """``nice``: run it at a lower CPU priority, as an API on another machine costs this one nothing."""
        key = ["--api-key", api_key] if api_key else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "alvin_integration.cli",
                "mock-backend",
                "--port",
                str(port),
                "--db",
                db,
                *key,
            ],
            stdout=subprocess.PIPE,
            env=alvin_env("http://unused", os.path.dirname(db)),
            text=True,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # "mock Alvin API on http://127.0.0.1:PORT (...)"
        self.url = first.split(" on ", 1)[1].split(" ", 1)[0]

    def get(self, path: str) -> Any:
        """GET a JSON path of the API."""
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def keys(self) -> List[str]:
        """Idempotency keys of the stored (deduplicated) events."""
        return [item["idempotency_key"] for item in self.get("/api/v1/events")]

    def stop(self) -> None:
        """Terminate the server."""
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run_cli(env: Dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``alvin-integration`` command in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "alvin_integration.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python_process(
    code: str, env: Dict[str, str], stdout: Optional[int] = subprocess.PIPE
) -> subprocess.Popen[str]:
    """Start ``python -c code`` (dedented) with ``env``."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
