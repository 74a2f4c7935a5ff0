"""Proof that the tests leave the user's Airflow home alone.

The tests run their own Airflow homes (tox sets ``AIRFLOW_HOME`` per environment, and every
process a test starts gets a home of its own). This module records the state of the homes a user
has, ``~/airflow`` and the ``AIRFLOW_HOME`` of the shell that ran ``make test`` (handed over as
``ALVIN_CALLER_AIRFLOW_HOME``), and tells what changed. It is used twice: by the pytest session of
every tox environment (tests/conftest.py) and around the whole run (``make test``)::

    python3 tests/support/home_guard.py -- tox run-parallel ...

Standard library only: the Makefile runs it with the system Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Dict, List, Mapping, Optional, Tuple

# what is known of one file: (size, mtime in ns); of a missing path: None
FileState = Optional[Tuple[int, int]]
HomeState = Dict[str, FileState]

CALLER_HOME_VARIABLE = "ALVIN_CALLER_AIRFLOW_HOME"


def guarded_homes(environ: Mapping[str, str] = os.environ) -> List[str]:
    """The Airflow homes no test may touch: ``~/airflow`` and the calling shell's ``AIRFLOW_HOME``."""
    homes = [os.path.expanduser(os.path.join("~", "airflow"))]
    caller = environ.get(CALLER_HOME_VARIABLE, "")
    if caller:
        homes.append(os.path.expanduser(caller))
    return sorted({os.path.abspath(home) for home in homes})


def snapshot(homes: List[str]) -> HomeState:
    """Every file and directory under ``homes`` with its size and modification time."""
    state: HomeState = {}
    for home in homes:
        if not os.path.lexists(home):
            state[home] = None
            continue
        for root, dirs, files in os.walk(home):
            for name in [*dirs, *files, ""]:
                path = os.path.join(root, name) if name else root
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                state[path] = (info.st_size, info.st_mtime_ns)
    return state


def changes(before: HomeState, after: HomeState) -> List[str]:
    """What differs between two snapshots, one line per path."""
    lines = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None:
            lines.append(f"created  {path}")
        elif new is None:
            lines.append(f"removed  {path}")
        else:
            lines.append(f"modified {path}")
    return lines


def report(lines: List[str]) -> str:
    """The message for a run that touched a user's Airflow home."""
    return (
        "the test run changed a user's Airflow home (each tox environment must use its own "
        "AIRFLOW_HOME and AIRFLOW_CONFIG):\n  " + "\n  ".join(lines[:50])
    )


def main(argv: List[str]) -> int:
    """Run the command after ``--``; exit non-zero if it failed or changed a guarded home."""
    command = argv[argv.index("--") + 1 :] if "--" in argv else []
    if not command:
        print("usage: home_guard.py -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    homes = guarded_homes()
    before = snapshot(homes)
    returncode = subprocess.call(command)
    changed = changes(before, snapshot(homes))
    if changed:
        print("home_guard: " + report(changed), file=sys.stderr)
        return returncode or 1
    print(f"home_guard: unchanged: {', '.join(homes)}")
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
