"""Side by side: what reporting costs a task with (a) nothing, (b) alvin-integration, (c) the
OpenLineage provider, on the af2 row's Airflow, with the API healthy, slow, hung or refusing.

Not a test: it prints a table and writes JSON (``make bench-compare``). It creates its venvs under
``.bench/`` (pinned by compat/constraints/af2.txt) and, alternating the variants within each API
state (in reverse order every other round), runs two forms:

- ``dags test``: a 20-task chain in one process (``airflow dags test``);
- ``task processes``: a 5-task chain as a process per try, as every executor runs it
  (``airflow dags trigger``, then ``airflow tasks run --local -A`` of each task in turn). The
  variants take turns at each task, not at each chain: task 0 of (a), task 0 of (b), task 1 of (b),
  task 1 of (a)..., and each process is timed alone. So every task process of (b) has a partner of
  (a) run seconds apart, and the cost per task process is the median of those pairs' differences,
  which the machine's drift over a round disturbs far less than the chains' totals.

Each run is timed twice: wall-clock seconds, and the CPU seconds (user + system) of the Airflow
processes it ran, which a loaded machine disturbs far less than the wall clock.

(b) and (c) report to the same local API (tests/support/fault_server.py, a separate process):
healthy (answers at once), slow (answers after 2 s), hung (accepts, never answers), refusing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Dict, List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.support.fault_server import refused_url  # noqa: E402

BENCH = os.path.join(REPO, ".bench")
UV = os.path.join(REPO, ".tools", "bin", "uv")
CONSTRAINTS = os.path.join(REPO, "compat", "constraints", "af2.txt")
PYTHON = "3.11"
AIRFLOW = "apache-airflow==2.11.2"
VARIANTS: Dict[str, List[str]] = {
    "a: nothing": [AIRFLOW],
    "b: alvin-integration": [AIRFLOW, f"{REPO}[airflow2]"],
    "c: OpenLineage provider": [AIRFLOW, "apache-airflow-providers-openlineage"],
}
STATES = {"healthy": "ok", "slow (2 s)": "slow:2", "hung": "hang", "refusing": None}
DAGS = """
    from datetime import datetime

    from airflow import DAG
    from airflow.operators.python import PythonOperator


    def work():
        return sum(range(10_000))


    for dag_id, size in (("chain_20", 20), ("chain_5", 5)):
        with DAG(dag_id, start_date=datetime(2026, 1, 1), schedule=None, catchup=False) as dag:
            previous = None
            for index in range(size):
                task = PythonOperator(task_id=f"t{index:02d}", python_callable=work)
                if previous is not None:
                    previous >> task
                previous = task
        globals()[dag_id] = dag
"""
FAULT_SERVER = """
    import sys, time
    from tests.support.fault_server import FaultServer
    server = FaultServer(default=sys.argv[1])
    print(server.url, flush=True)
    time.sleep(86400)
"""


def venv(name: str, packages: List[str], where: str = BENCH) -> str:
    """The venv of a variant, created once (pinned by the af2 row's constraints)."""
    path = os.path.join(where, name.split(":")[0])
    python = os.path.join(path, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([UV, "venv", "--quiet", "--python", PYTHON, path], check=True)
        env = dict(os.environ, VIRTUAL_ENV=path, UV_CONSTRAINT=CONSTRAINTS)
        # compiled, as pip installs and as images ship them: without .pyc (uv's default, and this
        # machine's PYTHONDONTWRITEBYTECODE) every process compiles Airflow, and us, from source
        install = [UV, "pip", "install", "--quiet", "--compile-bytecode", *packages]
        subprocess.run(install, check=True, env=env)
    return path


def api(mode: Optional[str]) -> Tuple[Optional[subprocess.Popen[str]], str]:
    """A local API in ``mode`` (a fault_server mode), or a refusing address."""
    if mode is None:
        return None, refused_url()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(FAULT_SERVER), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=REPO),
        cwd=REPO,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def home_for(path: str, variant: str, url: str) -> Dict[str, str]:
    """A fresh Airflow home with the bench DAGs, and the variant's settings pointed at ``url``."""
    home = tempfile.mkdtemp(prefix="alvin-compare-")
    dags = os.path.join(home, "dags")
    os.makedirs(dags)
    with open(os.path.join(dags, "chains.py"), "w") as handle:
        handle.write(textwrap.dedent(DAGS))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ALVIN_", "OPENLINEAGE"))}
    env.update(
        PATH=os.path.join(path, "bin") + os.pathsep + env.get("PATH", ""),
        AIRFLOW_HOME=home,
        AIRFLOW_CONFIG=os.path.join(home, "airflow.cfg"),
        AIRFLOW__CORE__DAGS_FOLDER=dags,
        AIRFLOW__CORE__LOAD_EXAMPLES="false",
        AIRFLOW__CORE__UNIT_TEST_MODE="false",
    )
    if variant.startswith("b"):
        env.update(ALVIN_URL=url, ALVIN_API_KEY="bench-key-123456", ALVIN_PLATFORM_ID="bench")
        env["ALVIN_SPOOL_DIR"] = os.path.join(home, "spool")
    if variant.startswith("c"):
        env["AIRFLOW__OPENLINEAGE__TRANSPORT"] = json.dumps({"type": "http", "url": url, "timeout": 5})
        env["AIRFLOW__OPENLINEAGE__NAMESPACE"] = "bench"
    airflow = os.path.join(path, "bin", "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, cwd=home, capture_output=True, check=True)
    subprocess.run([airflow, "dags", "reserialize"], env=env, cwd=home, capture_output=True)
    return env


Timing = Tuple[float, float]  # wall-clock seconds, CPU seconds
Results = Dict[str, Dict[str, Dict[str, List[Timing]]]]  # state -> form -> variant -> runs
Processes = Dict[str, Dict[str, List[Timing]]]  # state -> variant -> task processes, paired by index


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(env: Dict[str, str], *commands: List[str]) -> Timing:
    """Wall and CPU seconds the commands take, one after the other (a failing command still counts)."""
    airflow = os.path.join(env["PATH"].split(os.pathsep)[0], "airflow")
    started, cpu = time.monotonic(), _children_cpu()
    for command in commands:
        subprocess.run(
            [airflow, *command], env=env, cwd=env["AIRFLOW_HOME"], capture_output=True, timeout=3600
        )
    return time.monotonic() - started, _children_cpu() - cpu


def dags_test(env: Dict[str, str]) -> Timing:
    """20 tasks in one process."""
    return timed(env, ["dags", "test", "chain_20", "2026-11-01"])


def task_processes(envs: Dict[str, Dict[str, str]], order: List[str]) -> Dict[str, List[Timing]]:
    """5 tasks, a process each, as an executor runs them; the variants take turns at each task.

    Returns each variant's timings: the trigger's first, then one per task process.
    """
    run_id = f"bench__{time.time_ns()}"
    timings: Dict[str, List[Timing]] = {name: [] for name in order}
    for name in order:
        timings[name].append(timed(envs[name], ["dags", "trigger", "chain_5", "--run-id", run_id]))
    for index in range(5):
        turn = order if index % 2 == 0 else order[::-1]
        for name in turn:
            command = ["tasks", "run", "chain_5", f"t{index:02d}", run_id, "--local", "-A"]
            timings[name].append(timed(envs[name], command))
    return timings


DAGS_TEST = "dags test (20 tasks, one process)"
TASK_PROCESSES = "task processes (5 tasks)"
SIZES = {DAGS_TEST: 20, TASK_PROCESSES: 5}
BASE = "a: nothing"
BOOTSTRAP_DRAWS = 2000


def record(results: Results, state: str, form: str, name: str, timing: Timing) -> None:
    """Keep one run's timing and print it."""
    results.setdefault(state, {}).setdefault(form, {}).setdefault(name, []).append(timing)
    wall, cpu = timing
    print(f"  {state:<11} {form:<35} {name:<24} {wall:7.1f} s {cpu:7.1f} s CPU", flush=True)


def main() -> int:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", default=os.path.join(BENCH, "compare.json"))
    parser.add_argument("--states", default=",".join(STATES), help="comma-separated API states")
    parser.add_argument("--variants", default="a,b,c", help="comma-separated variant letters")
    parser.add_argument("--venvs", default=BENCH, help="where the variants' venvs are (made once)")
    args = parser.parse_args()
    os.makedirs(BENCH, exist_ok=True)
    chosen = [name for name in VARIANTS if name[0] in args.variants.split(",")]
    paths = {name: venv(name, VARIANTS[name], args.venvs) for name in chosen}
    results: Results = {}
    processes: Processes = {}
    for state in args.states.split(","):
        proc, url = api(STATES[state])
        try:
            homes = {name: home_for(path, name, url) for name, path in paths.items()}
            for round_ in range(args.rounds):
                # alternating, and in reverse order every other round (a b, b a, a b...): drift on
                # the machine, and whatever one run leaves to the next, hit every variant alike
                order = chosen if round_ % 2 == 0 else chosen[::-1]
                for name in order:
                    record(results, state, DAGS_TEST, name, dags_test(homes[name]))
                for name, timings in task_processes(homes, order).items():
                    chain = (sum(t[0] for t in timings), sum(t[1] for t in timings))
                    record(results, state, TASK_PROCESSES, name, chain)
                    processes.setdefault(state, {}).setdefault(name, []).extend(timings[1:])
            for env in homes.values():
                shutil.rmtree(env["AIRFLOW_HOME"], ignore_errors=True)
        finally:
            if proc is not None:
                proc.kill()
    print_table(results)
    print_pairs(processes)
    seconds = {
        s: {f: {n: [r[0] for r in rs] for n, rs in v.items()} for f, v in fs.items()}
        for s, fs in results.items()
    }
    cpu = {
        s: {f: {n: [r[1] for r in rs] for n, rs in v.items()} for f, v in fs.items()}
        for s, fs in results.items()
    }
    with open(args.json, "w") as handle:
        json.dump(
            {
                "python": PYTHON,
                "airflow": AIRFLOW,
                "rounds": args.rounds,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "task_processes": {
                    state: {
                        name: {"seconds": [t[0] for t in ts], "cpu_seconds": [t[1] for t in ts]}
                        for name, ts in variants.items()
                    }
                    for state, variants in processes.items()
                },
            },
            handle,
            indent=1,
        )
    print(f"(figures in {args.json})")
    return 0


def print_table(results: Results) -> None:
    """Medians of wall and CPU seconds, ratios to (a), and costs per task, per API state and form."""
    print(
        f"\n{'API state':<11} {'form':<35} {'variant':<24} {'wall s':>7} {'x (a)':>6} {'per task':>9}"
        f" {'CPU s':>7} {'x (a)':>6} {'per task':>9}"
    )
    for state, forms in results.items():
        for form, variants in forms.items():
            size = SIZES[form]
            base = [statistics.median(r[i] for r in variants[BASE]) for i in (0, 1)]
            for name, runs in variants.items():
                cells = []
                for i in (0, 1):
                    median = statistics.median(r[i] for r in runs)
                    cells.append(f"{median:7.1f} {median / base[i]:6.2f} {(median - base[i]) / size:+8.3f}s")
                print(f"{state:<11} {form:<35} {name:<24} {' '.join(cells)}")


def paired_cost(timings: List[float], base: List[float]) -> Tuple[float, float, float]:
    """The median of the pairs' differences, in ms, and a bootstrap 95% interval of that median."""
    differences = [1000 * (t - b) for t, b in zip(timings, base)]
    draw = random.Random(0)  # the same interval for the same figures
    medians = sorted(
        statistics.median(draw.choices(differences, k=len(differences))) for _ in range(BOOTSTRAP_DRAWS)
    )
    return statistics.median(differences), medians[BOOTSTRAP_DRAWS // 40], medians[-BOOTSTRAP_DRAWS // 40 - 1]


def print_pairs(processes: Processes) -> None:
    """Per task process: the median difference to (a)'s partner process, with its 95% interval."""
    print(
        f"\n{'API state':<11} {'task process, paired with (a)':<30} {'pairs':>5} {'wall ms (95% CI)':>24}",
        end="",
    )
    print(f" {'CPU ms (95% CI)':>24}")
    for state, variants in processes.items():
        base = variants.get(BASE)
        for name, timings in variants.items():
            if base is None or name == BASE:
                continue
            cells = []
            for i in (0, 1):
                median, low, high = paired_cost([t[i] for t in timings], [b[i] for b in base])
                cells.append(f"{median:+8.1f} ({low:+7.1f}, {high:+7.1f})")
            print(f"{state:<11} {name:<30} {min(len(timings), len(base)):>5} {cells[0]:>24} {cells[1]:>24}")


if __name__ == "__main__":
    sys.exit(main())
