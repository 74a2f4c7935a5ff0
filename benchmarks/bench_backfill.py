"""Onboarding with a long history (``make bench-backfill``; figures, not pass/fail).

A Postgres metadata database (this machine's) remembers one real run of the example DAG on the af2
row's Airflow; that run is copied, in SQL, into as many earlier runs as ``--tries`` needs (one an
hour). ``alvin-integration reconcile --backfill`` then rebuilds every try's events, with their
lineage, and delivers them to the mock Alvin API in pages. While it runs, the metadata database's
sessions and the command's memory and spool are sampled. It prints the rate, the longest
transaction the command kept open, its peak memory and spool, and what the API received.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.airflow_home import DAGS, init_db, row_env, run_example_dag
from tests.support.fault_server import refused_url
from tests.support.history_copies import copy_history
from tests.support.processes import MockBackendProcess
from tests.support.services import postgres_database, query

TRIES_PER_RUN = 6  # the example DAG's latest tries in one run


class Sampler(threading.Thread):
    """Every ``interval`` s: the command's resident memory, its spool's bytes, and the longest
    open transaction among its database sessions."""

    def __init__(self, pid: int, spool: Path, database: str, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.spool, self.database, self.interval = pid, spool, database, interval
        self.peak_rss_mb = self.peak_spool_mb = self.longest_transaction_s = 0.0
        self.idle_in_transaction = 0  # samples that caught a session idle in a transaction
        self.stop = threading.Event()

    def run(self) -> None:
        name = self.database.rsplit("/", 1)[1]
        while not self.stop.wait(self.interval):
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_rss_mb = max(self.peak_rss_mb, int(line.split()[1]) / 1024)
            except OSError:
                return
            size = 0
            for segment in self.spool.glob("segments/*.seg"):
                try:
                    size += segment.stat().st_size
                except OSError:  # delivered and removed meanwhile
                    pass
            self.peak_spool_mb = max(self.peak_spool_mb, size / 1e6)
            rows = query(
                self.database,
                "SELECT state, EXTRACT(EPOCH FROM now() - xact_start) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid() AND xact_start IS NOT NULL",
                name,
            )
            for state, seconds in rows:
                self.longest_transaction_s = max(self.longest_transaction_s, float(seconds or 0))
                self.idle_in_transaction += int(str(state).startswith("idle in transaction"))


def main() -> int:
    """Build the history, run the backfill, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=100_000, help="task tries of history (about)")
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument(
        "--json", default=str(Path(__file__).resolve().parents[1] / ".bench" / "backfill.json")
    )
    args = parser.parse_args()
    copies = max(0, -(-args.tries // TRIES_PER_RUN) - 1)
    with tempfile.TemporaryDirectory(prefix="alvin-backfill-") as work, postgres_database() as database:
        home = Path(work, "home")
        home.mkdir()
        env = {
            **row_env(str(home), refused_url()),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__SQL_ALCHEMY_CONN": database,
        }
        init_db(env)
        run_example_dag(env, "dags test")
        shutil.rmtree(home / "spool", ignore_errors=True)
        began = time.monotonic()
        added = copy_history(database, "alvin_example", copies)
        print(f"history: {added} copied in {time.monotonic() - began:.1f} s", flush=True)
        backend = MockBackendProcess(str(Path(work, "alvin.db")), nice=5)
        try:
            figures = _backfill(env, backend.url, database, home / "spool", copies, args.page_size)
        finally:
            backend.stop()
        with sqlite3.connect(str(Path(work, "alvin.db"))) as stored:
            received = int(stored.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        figures.update(events_received_once=received, events_per_s=round(received / figures["seconds"], 1))
    print(json.dumps(figures, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def _backfill(
    env: Dict[str, str], url: str, database: str, spool: Path, copies: int, page: int
) -> Dict[str, Any]:
    since = f"{copies // 24 + 3}d"
    command: List[str] = [sys.executable, "-m", "alvin_integration.cli", "reconcile", "--backfill"]
    command += ["--dags-folder", DAGS, "--dag-id", "alvin_example", "--since", since]
    command += ["--page-size", str(page), "--timeout", "600"]
    began = time.monotonic()
    process = subprocess.Popen(
        command, env={**env, "ALVIN_URL": url}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = Sampler(process.pid, spool, database)
    sampler.start()
    out, err = process.communicate()
    seconds = time.monotonic() - began
    sampler.stop.set()
    summary = next((line for line in out.splitlines() if line.startswith("since ")), out[-500:])
    if process.returncode != 0:
        print(err[-3000:], file=sys.stderr)
    return {
        "exit": process.returncode,
        "summary": summary,
        "page_size": page,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(sampler.peak_rss_mb, 1),
        "peak_spool_mb": round(sampler.peak_spool_mb, 2),
        "longest_transaction_s": round(sampler.longest_transaction_s, 2),
        "samples_idle_in_transaction": sampler.idle_in_transaction,
    }


if __name__ == "__main__":
    sys.exit(main())
