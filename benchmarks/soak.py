"""An outage under load, full size (``make soak``; figures, not pass/fail).

The compose file's Celery deployment on this machine's Postgres and Redis (the af2 row's Airflow)
runs ``--runs`` DAG runs of ``--tasks`` one-second tasks with ``--parallelism`` slots, twice:
without us (``ALVIN_DISABLED=true``) and with us, the mock API stopped for the middle third of the
tries. It prints, per variant, the task outcomes, task duration p50/p95 (Airflow's own durations),
the events expected and received after dedupe, and the delivery rate while the backlog drained;
and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support.services import postgres_database
from tests.support.soak import run_soak


def main() -> int:
    """Run both variants and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=25)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument(
        "--json",
        default=os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".bench", "soak.json"
        ),
        help="where to write the figures",
    )
    args = parser.parse_args()
    figures = []
    for enabled in (False, True):
        with tempfile.TemporaryDirectory(prefix="alvin-soak-") as work, postgres_database() as database:
            result = run_soak(Path(work), database, args.runs, args.tasks, args.parallelism, True, enabled)
        figures.append(result.summary())
        print(json.dumps(result.summary()), flush=True)
    off, on = figures
    print()
    head = ["integration", "task tries", "outcomes", "duration p50", "duration p95", "events expected"]
    head += [
        "received once",
        "backlog drain (middle 90%)",
        "API back to its first / last event",
        "p50 of tries started 30 s after",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in figures:
        cells = [row["integration"], args.runs * args.tasks, row["states"], f"{row['duration_p50_s']} s"]
        cells += [f"{row['duration_p95_s']} s", row["expected_events"] or "-", row["received_events"] or "-"]
        cells += [
            f"{row['drain_events_per_s'] or '-'} events/s ({row['drain_steady_events_per_s'] or '-'}) "
            f"of {row['backlog_events']}"
        ]
        cells += [f"{row['backlog_first_after_s'] or '-'} s / {row['backlog_delivered_after_s'] or '-'} s"]
        cells += [f"{row['after_return_p50_s'] or '-'} s"]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    for key in ("duration_p50_s", "duration_p95_s", "after_return_p50_s"):
        print(f"{key}: on/off = {on[key] / off[key]:.3f}")
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
