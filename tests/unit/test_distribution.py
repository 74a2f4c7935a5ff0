"""The built distribution, as tox installed it from this tree (``package = wheel``): its licence
travels with it, as a platform team's legal review expects."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _installed_wheel() -> metadata.Distribution:
    try:
        dist = metadata.distribution("alvin-integration")
    except metadata.PackageNotFoundError:
        pytest.skip(
            "alvin-integration is not installed here: run through tox, which installs the built wheel"
        )
    if dist.read_text("direct_url.json") and '"editable": true' in (dist.read_text("direct_url.json") or ""):
        pytest.skip("an editable install carries no built metadata")
    return dist


def test_the_wheel_carries_the_licence_text_and_says_which() -> None:
    dist = _installed_wheel()
    assert dist.metadata["License"] == "Apache-2.0"
    assert dist.metadata.get_all("License-File") == ["LICENSE"]
    shipped = [f for f in dist.files or [] if f.name == "LICENSE"]
    assert shipped, "the wheel ships no LICENSE file"
    assert Path(str(shipped[0].locate())).read_text() == (ROOT / "LICENSE").read_text()


def test_the_licence_is_the_apache_licence_2_0() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text


@pytest.mark.parametrize(
    "extra, versions",
    [
        ("airflow1", ["1.10.15"]),
        ("airflow2", ["2.0.2", "2.1.4", "2.2.5", "2.11.2"]),  # 2.0 and 2.1 are supported: the README says so
        ("airflow3", ["3.0.6", "3.3.2"]),
        ("composer", ["2.1.4", "2.10.5", "3.3.2"]),
    ],
)
def test_each_airflow_extra_admits_the_versions_it_stands_for(extra: str, versions: list) -> None:
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (airflow,) = [
        Requirement(text)
        for text in project["optional-dependencies"][extra]
        if Requirement(text).name == "apache-airflow"
    ]
    assert all(airflow.specifier.contains(version) for version in versions), (extra, str(airflow.specifier))
