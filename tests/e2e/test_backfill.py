"""``alvin-integration reconcile --backfill``: onboarding with history, on this row's Airflow.

The example DAG runs once, on a Postgres metadata database, while the Alvin API refuses every
connection, then its spool is lost: what is left is Airflow's metadata database, as for a team
that installs us after months of runs. Its run is copied into 49 earlier ones (a few hundred task
tries, ``history_copies``). The command rebuilds every try's events from that database with the
lineage its DAG's current definition names for the try's logical date (no task runs, no
connection opens), reading it a page at a time, and waits for the API between pages: through a
429 with ``Retry-After`` it holds no transaction open.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterator, List, NamedTuple, Set, Tuple

import pytest

from tests.e2e.test_lineage_cli import EXPECTED, pairs
from tests.support.airflow_home import DAGS, ROW, init_db, row_env, run_example_dag
from tests.support.fault_server import FaultServer, refused_url
from tests.support.history_copies import FIRST_TASK_ID, copy_history, forget_try_first, record_try_first
from tests.support.processes import run_cli
from tests.support.services import POSTGRES, postgres_database, query, reachable
from tests.support.skips import onboarding_rows_only

pytestmark = onboarding_rows_only

COPIES = 49  # earlier runs copied from the real one: 50 runs, 6 to 7 tries each
PAGE = 50  # tries per page


class History(NamedTuple):
    env: Dict[str, str]
    database: str


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """A Postgres metadata database that remembers 50 runs of the example DAG; no spool."""
    assert reachable(POSTGRES), f"PostgreSQL is not running at {POSTGRES}: these machines start it"
    home = str(tmp_path_factory.mktemp("backfill") / "home")
    os.makedirs(home)
    with postgres_database("alvin_backfill") as database:
        env = {
            **row_env(home, refused_url()),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__SQL_ALCHEMY_CONN": database,
        }
        init_db(env)
        run_example_dag(env, ROW["run"])  # some of its tasks fail on purpose
        shutil.rmtree(Path(home, "spool"), ignore_errors=True)  # the disk that went away
        added = copy_history(database, "alvin_example", COPIES)
        assert added["task_instance"] >= COPIES * 6, added
        yield History(env, database)


def backfill_args(*args: str) -> List[str]:
    """``reconcile --backfill`` of the example DAG."""
    return ["reconcile", "--backfill", "--dags-folder", DAGS, "--dag-id", "alvin_example", *args]


def backfill(env: Dict[str, str], *args: str) -> Any:
    """``alvin-integration reconcile --backfill`` as a real process, to its end."""
    result = run_cli(env, *backfill_args(*args), timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result


def _runs(server: FaultServer) -> Dict[str, Set[Tuple[str, int, str]]]:
    """(task, try, event type) of every task event the API accepted, by the try's DAG run id."""
    found: Dict[str, Set[Tuple[str, int, str]]] = defaultdict(set)
    for request in server.requests:
        if request["status"] != 200 or not request["body"]:
            continue
        event = json.loads(request["body"])  # type: ignore[arg-type]
        alvin = event["run"]["facets"]["alvin"]
        if alvin.get("task_id"):
            found[alvin["run_id"]].add((alvin["task_id"], alvin["try_number"], event["eventType"]))
            if event["eventType"] == "START":
                _, inputs, outputs = EXPECTED[alvin["task_id"]]
                assert (pairs(event["inputs"]), pairs(event["outputs"])) == (inputs, outputs), event
                assert alvin["rebuilt_by"] == "alvin-integration reconcile"
                assert alvin["lineage"].startswith("rebuilt from the DAG's current definition")
    return found


def _recorded_tries(database: str) -> List[int]:
    """How many rows ``task_instance`` and (2.10+) ``task_instance_history`` hold."""
    tables = [
        row[0] for row in query(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    return [
        int(query(database, f"SELECT count(*) FROM {table}")[0][0])
        for table in ("task_instance", "task_instance_history")
        if table in tables
    ]


def _open_transactions(database: str) -> List[Tuple[Any, ...]]:
    """Sessions of other processes on ``database`` that sit in a transaction they are not using."""
    return query(
        database,
        "SELECT pid, state, query FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND state LIKE 'idle in transaction%%'",
        database.rsplit("/", 1)[1],
    )


def test_a_dry_run_prints_the_events_with_their_lineage_and_spools_nothing(history: History) -> None:
    server = FaultServer()
    try:
        result = backfill({**history.env, "ALVIN_URL": server.url}, "--dry-run")
    finally:
        server.close()
    assert "(dry run: nothing spooled)" in result.stdout
    assert "START alvin_example.load try 1" in result.stdout
    assert "in postgres://example-db:5432/warehouse.staging.orders" in result.stdout
    assert server.requests == []
    spool = Path(history.env["AIRFLOW_HOME"], "spool")
    assert not spool.exists() or not any(spool.iterdir())


def test_hundreds_of_past_tries_are_rebuilt_in_pages_at_the_apis_pace(history: History) -> None:
    server = FaultServer()
    server.queue(*["ok"] * 150, "retry_after:2")  # the API asks for a pause in the middle of the tries
    env = {**history.env, "ALVIN_URL": server.url}
    command = subprocess.Popen(
        [sys.executable, "-m", "alvin_integration.cli", *backfill_args("--page-size", str(PAGE))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while command.poll() is None and not server.keys(429):
            time.sleep(0.05)
        time.sleep(0.5)  # the sender waits out Retry-After; the command waits for it between pages
        assert _open_transactions(history.database) == []  # no page's session is kept meanwhile
        out, err = command.communicate(timeout=600)
        assert command.returncode == 0, out + err[-3000:]
        assert server.keys(429), "the pause was never asked for: the history was shorter than thought"
        runs = _runs(server)
    finally:
        command.kill()
        server.close()
    recorded = _recorded_tries(history.database)  # the latest tries, then earlier ones (2.10+)
    assert sum(recorded) >= (COPIES + 1) * 6, recorded
    pages = sum(-(-count // PAGE) for count in recorded)
    assert f" for {sum(recorded)} task try(s) " in out and f"(tries read in {pages} page(s))" in out, out
    original = [run_id for run_id in runs if "__copy" not in run_id]
    assert len(original) == 1, sorted(runs)
    assert len(runs) == COPIES + 1, sorted(runs)
    for run_id, found in runs.items():  # every past run's every try, each with START and its end
        assert found == runs[original[0]], run_id
    assert {task for task, _, _ in runs[original[0]]} >= {t for t, (_, i, o) in EXPECTED.items() if i or o}
    again = backfill(env)
    assert " 0 spooled now" in again.stdout, again.stdout  # what was delivered is not sent again


READ_PAGES = """
import json, sys
from datetime import datetime, timedelta, timezone
from alvin_integration.producers.airflow import history

seen = []
since = datetime.now(timezone.utc) - timedelta(days=30)
pages = history.task_try_pages(since, ("alvin_example",), page_size=50)
for number, page in enumerate(pages):
    seen += [[row.task_id, str(row.run_id), str(row.execution_date), try_number] for row, try_number in page]
    if number == 0:
        print("read a page", flush=True)
        sys.stdin.readline()  # the test records a try meanwhile
print(json.dumps(seen), flush=True)
"""


def test_a_try_recorded_while_history_is_paged_shifts_no_page(history: History) -> None:
    """Pages follow the last page's key, not an offset: a try recorded before it, meanwhile, makes
    no try come twice (an offset would repeat the previous page's last) nor go missing."""
    recorded = sum(_recorded_tries(history.database))
    reader = subprocess.Popen(
        [sys.executable, "-c", READ_PAGES],
        env=history.env,
        cwd=history.env["AIRFLOW_HOME"],  # the installed package, not the source tree
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "read a page", (
            reader.stderr.read()[-3000:] if reader.stderr else ""
        )
        assert record_try_first(history.database, "alvin_example") == 1
        reader.stdin.write("go on\n")
        reader.stdin.flush()
        out, err = reader.communicate(timeout=300)
        assert reader.returncode == 0, err[-3000:]
    finally:
        reader.kill()
        forget_try_first(history.database)
    seen = [tuple(row) for row in json.loads(out.splitlines()[-1])]
    assert len(seen) == len(set(seen)) == recorded, (len(seen), len(set(seen)), recorded)
    assert all(row[0] != FIRST_TASK_ID for row in seen)
