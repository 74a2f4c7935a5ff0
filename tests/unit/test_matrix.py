"""compat/matrix.toml is the one source: tox.ini and the README's version table must agree with it."""

from __future__ import annotations

import configparser
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


def test_every_tested_row_is_a_tox_env_pinned_by_its_constraints() -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO / "tox.ini")
    envlist = tox["tox"]["envlist"].replace("\n", " ").replace(",", " ").split()
    for row in rows():
        section = f"testenv:{row['env']}"
        if row["status"] != "tested":
            assert section not in tox, f"{row['env']} is not tested yet but has a tox env"
            continue
        assert row["env"] in envlist and section in tox
        assert tox[section]["basepython"] == f"python{row['python']}"
        # tox's [airflow] setenv pins every row by compat/constraints/<env>.txt
        assert tox[section]["setenv"].strip() == "{[airflow]setenv}"
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
