"""Benchmark: lineage extraction on a task's path, and what the [sql] extra adds to imports.

Not a test: it prints figures. Run inside an Airflow environment with the [sql] extra (``make
bench`` uses the af2 row's). For SQL of 100 B to 100 KB it times what a try's START and end spend
finding lineage (read the task, parse its SQL, name its tables from the connection), p50 and p99
over many tries; then ``python -X importtime`` of the plugin and of the parser.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from types import SimpleNamespace
from typing import Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOME = tempfile.mkdtemp(prefix="alvin-bench-lineage-")
os.environ.update(AIRFLOW_HOME=HOME, AIRFLOW_CONFIG=os.path.join(HOME, "airflow.cfg"))
os.environ["AIRFLOW_CONN_BENCH_DB"] = "postgres://db.example.com:5432/warehouse"
sys.path.insert(0, REPO)

from alvin_integration.producers.airflow.extract import sql as sql_module  # noqa: E402
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of  # noqa: E402
from alvin_integration.producers.airflow.read import read_task_try  # noqa: E402

TRIES = 100
EXECUTE = 0.1  # seconds: the task's own work between its START and its end
# What a task process imports whether or not we are installed: Airflow's task modules and the
# operator its DAG file uses. On 2.10+ an operator's import loads airflow.lineage.hook (and the
# providers manager), which our plugin also imports to register its reader: whichever comes first
# pays for it, so it is not a cost of the plugin.
LOADED_IN_A_TASK = (
    "import airflow, airflow.models.taskinstance, airflow.plugins_manager, airflow.listeners.listener, "
    "airflow.operators.python"
)


def long_case(size: int) -> str:
    """An INSERT ... SELECT with joins and 20 columns of long CASE expressions (a wide ETL step)."""
    head = "INSERT INTO analytics.order_facts SELECT o.id, c.name"
    tail = " FROM staging.orders o JOIN staging.customers c ON o.customer_id = c.id WHERE o.day = %(day)s"
    per_column = max(60, (size - len(head) - len(tail)) // 20)
    columns = []
    for i in range(20):
        whens, n = [], 0
        while sum(len(w) for w in whens) < per_column - 40:
            whens.append(f" WHEN o.code_{i} = '{n:05d}' THEN 'label {n}'")
            n += 1
        columns.append(", CASE" + "".join(whens) + f" ELSE NULL END AS label_{i}")
    return head + "".join(columns) + tail


def statement(size: int) -> str:
    """An INSERT ... SELECT with joins, one computed column per 30 bytes (the parser's worst shape)."""
    head = "INSERT INTO analytics.order_facts SELECT o.id, c.name"
    tail = " FROM staging.orders o JOIN staging.customers c ON o.customer_id = c.id WHERE o.day = %(day)s"
    columns: List[str] = []
    while len(head) + len(tail) + sum(len(c) + 2 for c in columns) < size:
        columns.append(f"o.amount_{len(columns)} * 2 AS total_{len(columns)}")
    return head + "".join(", " + c for c in columns) + tail


def task_instance(sql: str) -> SimpleNamespace:
    task = SimpleNamespace(sql=sql, conn_id="bench_db", inlets=[], outlets=[])
    return SimpleNamespace(dag_id="bench", task_id="t", run_id="manual__1", map_index=-1, task=task)


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def extraction() -> None:
    print(f"lineage extraction on a task's path, ms ({TRIES} tries each, SQL parsed afresh each try;")
    print(
        "a START's extraction takes at most ALVIN_SQL_START_WAIT_MS=5, its parse included; "
        f"the end comes {EXECUTE:g} s later):"
    )
    titles = ("shape", "SQL size", "START p50", "p99", "end p50", "p99", "on START", "columns")
    print("  " + "  ".join(f"{t:>{w}}" for t, w in zip(titles, (10, 9, 9, 6, 7, 6, 8, 7))))
    warm = task_instance(statement(100))  # what every process loads once: parser, connection, hook lineage
    lineage_of(read_task_try(warm, 1, "running"))
    lineage_of(read_task_try(warm, 1, "success"), at_end=True)
    for shape, make in (("CASE", long_case), ("computed", statement)):
        for size in (100, 1_000, 10_000, 100_000):
            measure(shape, make(size))


def measure(shape: str, sql: str) -> None:
    """Print p50/p99 of one try's extraction for ``sql``."""
    ti = task_instance(sql)
    starts: List[float] = []
    ends: List[float] = []
    on_start = 0
    for number in range(TRIES):
        sql_module._cache.clear()  # each try a new process's: its START parses, its end reuses
        started = time.perf_counter()
        start = lineage_of(read_task_try(ti, number, "running"), start_wait=0.005)
        starts.append((time.perf_counter() - started) * 1000)
        on_start += bool(start.outputs)
        time.sleep(EXECUTE)
        started = time.perf_counter()
        end = lineage_of(read_task_try(ti, number, "success"), at_end=True)
        ends.append((time.perf_counter() - started) * 1000)
    facet = end.outputs[0].facets.get("columnLineage") if end.outputs else None
    columns = len(facet.columns) if facet is not None else 0
    figures = [
        percentile(starts, 0.5),
        percentile(starts, 0.99),
        percentile(ends, 0.5),
        percentile(ends, 0.99),
    ]
    cells = "  ".join(f"{value:{width}.2f}" for value, width in zip(figures, (9, 6, 7, 6)))
    print(f"  {shape:>10}  {len(sql):>8}B  {cells}  {on_start * 100 // TRIES:>7}%  {columns:>7}")


def import_cost(module: str, after: str = "") -> float:
    """Milliseconds ``module`` adds to a task process's imports (``after`` those of ``after``),
    median of 5 fresh processes.

    The installed package is measured (byte-compiled by ``make bench``), not the checkout's
    sources, which this machine's PYTHONDONTWRITEBYTECODE would compile again in every process.
    """
    costs: List[float] = []
    env: Dict[str, str] = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    loaded = f"{LOADED_IN_A_TASK}; import {after}" if after else LOADED_IN_A_TASK
    for _ in range(5):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"{loaded}; import {module}"],
            capture_output=True,
            text=True,
            env=env,
            cwd=os.path.dirname(REPO),  # not the checkout: -c puts the working directory on sys.path
        )
        ours = 0
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].strip() == module:
                ours = int(parts[1])  # cumulative microseconds
        costs.append(ours / 1000)
    return statistics.median(costs)


if __name__ == "__main__":
    extraction()
    plugin = import_cost("alvin_integration.producers.airflow.plugin")
    report = import_cost(
        "alvin_integration.producers.airflow.report", after="alvin_integration.producers.airflow.plugin"
    )
    parser = import_cost("openlineage_sql")
    print(f"import of the plugin, beyond Airflow: {plugin:.1f} ms (the parser is not imported with it)")
    print(f"import of the report path, paid by the first event of a process: {report:.1f} ms")
    print(f"import of openlineage_sql, paid by the first SQL parse of a process: {parser:.1f} ms")
