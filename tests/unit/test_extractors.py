"""Users' extractors: a real entry point (a distribution on sys.path) and the setting; never a raise."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import pytest

from alvin_integration.model import Dataset
from alvin_integration.producers.airflow.extract import extractors
from alvin_integration.producers.airflow.extract.extractors import run_extractors

PACKAGE = """
def extract(task):
    return {
        "inputs": ["s3://bucket/in.csv", ("postgres://db:5432", "warehouse.public.src")],
        "outputs": [{"namespace": "bigquery", "name": "project.dataset.table"}],
        "run_facets": {"myFacet": {"_schemaURL": "https://example.com/MyFacet.json", "rows": task.rows}},
    }


def broken(task):
    raise RuntimeError("the extractor has a bug")
"""


class MyOperator:
    rows = 42


class OtherOperator:
    pass


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[None]:
    """A tiny distribution with the entry point, found by importlib.metadata as an installed one."""
    (tmp_path / "my_lineage.py").write_text(PACKAGE)
    info = tmp_path / "my_lineage-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-lineage\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[alvin_integration.extractors]\nMyOperator = my_lineage:extract\nOtherOperator = my_lineage:broken\n"
    )
    sys.path.insert(0, str(tmp_path))
    extractors._registered.clear()
    try:
        yield
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("my_lineage", None)
        extractors._registered.clear()


def test_an_entry_point_extractor_serves_its_operator_class(installed: None) -> None:
    found = run_extractors(MyOperator(), None)
    assert found.errors == []
    assert found.inputs == [
        Dataset("s3://bucket", "in.csv"),
        Dataset("postgres://db:5432", "warehouse.public.src"),
    ]
    assert found.outputs == [Dataset("bigquery", "project.dataset.table")]
    facet = found.run_facets["myFacet"].to_dict()
    assert facet["rows"] == 42 and facet["_schemaURL"] == "https://example.com/MyFacet.json"


def test_what_an_extractor_raises_is_an_error_not_a_raise(installed: None) -> None:
    found = run_extractors(OtherOperator(), None)
    assert found.inputs == [] and len(found.errors) == 1
    assert "the extractor has a bug" in found.errors[0]


def test_the_setting_adds_extractors_and_reports_the_ones_it_cannot_load(installed: None) -> None:
    seen = []

    def spy(task: Any) -> Optional[Mapping[str, Any]]:
        seen.append(type(task).__name__)
        return None

    sys.modules[__name__].spy = spy
    found = run_extractors(OtherOperator(), f"{__name__}:spy, no_such_module:extract")
    assert seen == ["OtherOperator"]  # a module:function path is called for every operator
    assert any("no_such_module" in error for error in found.errors)
