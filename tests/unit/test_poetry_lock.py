"""The committed poetry.lock, which ``poetry install -E airflow2`` (or ``-E airflow3``) in a clone
installs from without resolving: for each set of extras the README offers there, one version of
each package. Poetry 2.5 merges the forks of its resolution into markers that can let two
versions of one package through (it then installs both); this catches such a lock. That the lock
matches pyproject.toml is ``poetry check --lock``, in ``tox -e lint``."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, FrozenSet, List

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python < 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
LOCK = tomllib.loads((ROOT / "poetry.lock").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKED_PYTHON = PYPROJECT["tool"]["poetry"]["dependencies"]["python"]

# The extras a clone offers to `poetry install -E` (README, "With poetry"), each alone and with the
# others that go with it. Not composer: poetry locks "Airflow 2 or 3" as both at once.
EXTRA_SETS = [
    frozenset({airflow, *more})
    for airflow in ("airflow2", "airflow3")
    for more in ((), ("sql",), ("dev",), ("sql", "dev"))
]
EXTRA_TERM = re.compile(r"""extra\s*(==|!=)\s*["']([^"']+)["']""")


def _as_asked(marker: str, extras: FrozenSet[str]) -> Marker:
    """The lock's marker with poetry's reading of ``extra`` (any of the extras asked for) filled in."""

    def truth(term: re.Match[str]) -> str:  # as a term the environment decides: extra is "yes"
        asked = term.group(2) in extras
        return 'extra == "yes"' if asked == (term.group(1) == "==") else 'extra == "no"'

    return Marker(EXTRA_TERM.sub(truth, marker))


def _environment(python: str) -> Dict[str, str]:
    """A Linux x86_64 CPython of that version, as marker variables."""
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "os_name": "posix",
        "extra": "yes",
    }


def _installed(extras: FrozenSet[str], python: str) -> Dict[str, List[str]]:
    """Each package's versions that poetry installs from the lock for these extras on this Python."""
    chosen: Dict[str, List[str]] = defaultdict(list)
    for package in LOCK["package"]:
        marker = package.get("markers")
        if marker is None or _as_asked(marker, extras).evaluate(_environment(python)):
            chosen[package["name"]].append(package["version"])
    return chosen


def _locked_pythons() -> List[str]:
    pythons = [f"3.{minor}" for minor in range(8, 15) if SpecifierSet(LOCKED_PYTHON).contains(f"3.{minor}.0")]
    assert pythons, LOCKED_PYTHON
    return pythons


def test_the_lock_is_for_the_pythons_pyproject_names() -> None:
    assert LOCK["metadata"]["python-versions"] == LOCKED_PYTHON


@pytest.mark.parametrize("extras", EXTRA_SETS, ids=lambda extras: "+".join(sorted(extras)))
def test_each_extra_set_gets_one_version_of_each_package(extras: FrozenSet[str]) -> None:
    for python in _locked_pythons():
        chosen = _installed(extras, python)
        twice = {name: versions for name, versions in chosen.items() if len(versions) > 1}
        assert not twice, (python, sorted(extras), twice)
        airflow: Any = chosen.get("apache-airflow")
        major = "3" if "airflow3" in extras else "2"
        assert airflow and airflow[0].startswith(f"{major}."), (python, sorted(extras), airflow)
        assert {"alvin-integration"}.isdisjoint(chosen)  # the project itself is not a locked package


def test_without_extras_no_airflow_is_installed() -> None:
    for python in _locked_pythons():
        assert "apache-airflow" not in _installed(frozenset(), python)
