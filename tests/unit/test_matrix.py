"""compat/matrix.toml is the one source: tox.ini and the README's version table must agree with it."""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python < 3.11
    tomllib = pytest.importorskip("tomli", reason="reading compat/matrix.toml needs tomli before 3.11")

REPO = Path(__file__).resolve().parents[2]


def rows() -> List[Dict[str, Any]]:
    return tomllib.loads((REPO / "compat" / "matrix.toml").read_text())["row"]


def readme_table() -> str:
    """The supported-version table as the README must show it."""
    lines = [
        "| tox env | Airflow | Python | how it hooks in | what the row proves | status |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows():
        lines.append(
            f"| `{row['env']}` | {row['airflow']} | {row['python']} | {row['mechanism']} "
            f"| {row.get('proves', '')} | {row['status']} |"
        )
    return "\n".join(lines)


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
        # tox's [airflow] setenv pins every row by compat/constraints/<env>.txt
        assert env["setenv"].strip() == "{[airflow]setenv}"
        assert row["constraints"] == f"compat/constraints/{row['env']}.txt"
        pins = (REPO / row["constraints"]).read_text().splitlines()
        assert f"apache-airflow=={row['airflow']}" in pins
        assert (REPO / "compat" / "expected" / f"alvin_example__{row['golden']}.json").is_file()


def test_readme_shows_the_matrix() -> None:
    assert readme_table() in (REPO / "README.md").read_text(), (
        "regenerate with: python tests/unit/test_matrix.py"
    )


if __name__ == "__main__":
    print(readme_table())


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
