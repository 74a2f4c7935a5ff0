"""The guard that proves the tests leave the user's Airflow home alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support import home_guard

GUARD = os.path.join(os.path.dirname(home_guard.__file__), "home_guard.py")


def test_a_created_home_a_new_file_and_a_changed_file_are_all_reported(tmp_path: Path) -> None:
    home = tmp_path / "airflow"
    before = home_guard.snapshot([str(home)])
    home.mkdir()
    (home / "airflow.cfg").write_text("[core]\n")
    assert home_guard.changes(before, home_guard.snapshot([str(home)])) == [
        f"created  {home}",
        f"created  {home / 'airflow.cfg'}",
    ]
    before = home_guard.snapshot([str(home)])
    os.utime(home / "airflow.cfg", ns=(1, 1))
    assert home_guard.changes(before, home_guard.snapshot([str(home)])) == [
        f"modified {home / 'airflow.cfg'}"
    ]


def test_the_homes_guarded_are_the_default_one_and_the_callers(tmp_path: Path) -> None:
    homes = home_guard.guarded_homes({home_guard.CALLER_HOME_VARIABLE: str(tmp_path)})
    assert str(tmp_path) in homes
    assert os.path.expanduser(os.path.join("~", "airflow")) in homes


def test_the_wrapper_fails_a_command_that_writes_into_a_guarded_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, **{home_guard.CALLER_HOME_VARIABLE: str(home)})
    write = f"import os; os.makedirs({str(home)!r})"
    result = subprocess.run(
        [sys.executable, GUARD, "--", sys.executable, "-c", write], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1 and f"created  {home}" in result.stderr
    result = subprocess.run([sys.executable, GUARD, "--", "true"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and "unchanged" in result.stdout
