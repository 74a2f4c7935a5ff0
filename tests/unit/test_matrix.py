"""compat/matrix.toml is the one source: tox.ini and the README's version table must agree with it."""

from __future__ import annotations

import configparser
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

import pytest

from tests.support.matrix import matrix_markdown
from tests.support.readme import marked_table

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    tomllib = pytest.importorskip("tomli", reason="reading compat/matrix.toml needs tomli before 3.11")

REPO = Path(__file__).resolve().parents[2]


def rows() -> List[Dict[str, Any]]:
    return tomllib.loads((REPO / "compat" / "matrix.toml").read_text())["row"]


def tox_envs() -> Dict[str, Dict[str, str]]:
    """tox.ini's environments by name: generative sections expanded, factor conditions resolved."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    envs: Dict[str, Dict[str, str]] = {}
    for section in tox.sections():
        match = re.fullmatch(r"testenv:(\w*)\{([\w,]+)\}", section)
        names = [match.group(1) + f for f in match.group(2).split(",")] if match else [section[8:]]
        for name in names if section.startswith("testenv:") else []:
            envs[name] = {key: _for_env(value, name) for key, value in tox[section].items()}
    return envs


def _for_env(value: str, env: str) -> str:
    """A setting's value for ``env``: of lines ``factors: value``, the one naming the env."""
    lines = [line.strip() for line in value.strip().splitlines()]
    conditional = [line.split(":", 1) for line in lines if re.match(r"^[\w,]+:\s", line)]
    if not conditional:
        return value
    return next(v.strip() for factors, v in conditional if env in factors.split(","))


def test_every_tested_row_is_a_tox_env_pinned_by_its_constraints() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    envlist = tox["tox"]["envlist"].replace("\n", " ").replace(",", " ").split()
    envs = tox_envs()
    for row in rows():
        if row["status"] != "tested":
            assert row["env"] not in envs, f"{row['env']} is not tested yet but has a tox env"
            continue
        assert row["env"] in envlist and row["env"] in envs
        env = envs[row["env"]]
        assert env["basepython"] == f"python{row['python']}"
        # tox's [airflow] setenv pins every row by compat/constraints/<env>.txt ([dated]: its builds too)
        assert env["setenv"].strip() == (
            "{[airflow]setenv}" if row["env"] in HAND_PINNED else "{[dated]setenv}"
        )
        assert row["constraints"] == f"compat/constraints/{row['env']}.txt"
        pins = (REPO / row["constraints"]).read_text().splitlines()
        assert f"apache-airflow=={row['airflow']}" in pins
        assert (REPO / "compat" / "expected" / f"alvin_example__{row['golden']}.json").is_file()


# The rows pinned by hand before compat/constraints.py existed: proven, kept, never regenerated.
# Every other row has a `date` and the file that script wrote for it.
HAND_PINNED = ("af2", "af3", "af29", "af26", "af23", "af22", "af110", "composer")


def constraints_script() -> ModuleType:
    """compat/constraints.py, imported from its path (compat/ is no package)."""
    spec = importlib.util.spec_from_file_location("compat_constraints", REPO / "compat" / "constraints.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_row_after_the_hand_pinned_ones_is_pinned_as_of_its_date_by_the_script() -> None:
    """The header of a generated file names its row's Airflow, Python and date, and the command
    with the extras and deps tox installs now: a row or tox env changed without regenerating fails."""
    script = constraints_script()
    for row in rows():
        path = REPO / row["constraints"]
        assert path.is_file(), row["env"]
        if row["env"] in HAND_PINNED:
            assert not script.is_generated(path), f"{path.name} is hand-pinned (proven): keep it"
            continue
        regenerate = f"{path.name} is stale: python compat/constraints.py {row['env']}"
        assert "date" in row, f"{row['env']}: a new row needs a date (compat/matrix.toml's header)"
        lines = path.read_text().splitlines()
        assert lines[0] == script.header(row), regenerate
        assert lines[2] == script.shown_command(row), regenerate
        assert f"apache-airflow=={row['airflow']}" in lines
        assert any(line.startswith("setuptools==") for line in lines)  # what [dated] builds sdists with


def test_readme_shows_the_matrix() -> None:
    assert marked_table((REPO / "README.md").read_text(), "matrix") == matrix_markdown(), (
        "regenerate with: make readme"
    )


def test_package_version_is_declared_once_statically() -> None:
    from alvin_integration import __version__

    # poetry needs a static [project] version; the package reports __version__ in User-Agent.
    assert tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"] == __version__


def test_readme_names_every_module() -> None:
    readme = (REPO / "README.md").read_text()
    package = REPO / "alvin_integration"
    for path in sorted(package.rglob("*.py")):
        if path.name == "__init__.py" or "examples" in path.parts or "mock_backend" in path.parts:
            continue
        relative = path.relative_to(package)
        names = {f"`{path.name}`", f"`alvin_integration/{relative}`"}
        if relative.parent.name:  # a package's row (`adapters/`) covers its modules
            names.add(f"`{relative.parent.name}/`")
        assert any(name in readme for name in names), f"the README's module tables miss {relative}"
