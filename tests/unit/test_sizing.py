"""Oversized events are cut, largest fields first, and say what was cut: never dropped, never oversize."""

from __future__ import annotations

import json
from typing import Any, Dict

from alvin_integration.model import (
    FAIL,
    ColumnLineageDatasetFacet,
    Dataset,
    ErrorMessageRunFacet,
    SQLJobFacet,
)
from alvin_integration.sizing import fit_event, size_of
from tests.support.events import task_event

LIMIT = 64 * 1024


def big_event() -> Dict[str, Any]:
    event = task_event(0, FAIL)
    event.job.facets["sql"] = SQLJobFacet("SELECT " + ", ".join(f"c{i}" for i in range(20_000)) + " FROM t")
    event.run.facets["errorMessage"] = ErrorMessageRunFacet("boom", "Traceback:\n" + "  frame\n" * 20_000)
    event.outputs[0].facets["columnLineage"] = ColumnLineageDatasetFacet(
        {f"c{i}": [("postgres://db:5432", "public.source", f"c{i}")] for i in range(2_000)}
    )
    return event.to_dict()


def test_a_small_event_is_left_as_it_is() -> None:
    event = task_event().to_dict()
    assert fit_event(json.loads(json.dumps(event)), LIMIT) == event


def test_an_oversized_event_fits_keeps_its_identity_and_lists_the_cuts() -> None:
    event = big_event()
    assert size_of(event) > LIMIT
    run_id, job = event["run"]["runId"], dict(event["job"])
    fitted = fit_event(event, LIMIT)
    assert size_of(fitted) <= LIMIT
    assert fitted["run"]["runId"] == run_id and fitted["job"]["name"] == job["name"]
    assert fitted["eventType"] == "FAIL"
    cut = fitted["run"]["facets"]["alvin"]["truncated"]
    assert "job.facets.sql.query" in cut and "run.facets.errorMessage.stackTrace" in cut
    assert fitted["job"]["facets"]["sql"]["query"].startswith("SELECT c0, c1")
    assert fitted["inputs"][0]["name"] == "public.source"  # the datasets stay where they fit


def test_many_datasets_are_shortened_and_at_worst_only_identity_is_left() -> None:
    event = task_event().to_dict()
    event["inputs"] = [Dataset("postgres://db:5432", f"public.t{i:05d}").to_dict() for i in range(5_000)]
    fitted = fit_event(event, 16 * 1024)
    assert size_of(fitted) <= 16 * 1024
    assert 0 < len(fitted["inputs"]) < 5_000
    assert "inputs[...]" in fitted["run"]["facets"]["alvin"]["truncated"]
    huge_names = task_event().to_dict()
    huge_names["run"]["facets"]["alvin"].update({f"k{i}": "v" * 200 for i in range(2_000)})
    bare = fit_event(huge_names, 16 * 1024)
    assert size_of(bare) <= 16 * 1024
    assert bare["run"]["facets"]["alvin"]["task_id"] == "task_0"


def test_cutting_thousands_of_datasets_serializes_the_whole_event_a_few_times_only(monkeypatch) -> None:
    """fit_event runs in the task's thread: its cost must not grow with the square of the datasets."""
    import types

    import alvin_integration.sizing as sizing

    whole = []

    def dumps(value: Any, **options: Any) -> str:
        if isinstance(value, dict) and "eventType" in value:
            whole.append(1)
        return json.dumps(value, **options)

    monkeypatch.setattr(sizing, "json", types.SimpleNamespace(dumps=dumps))
    event = task_event().to_dict()
    event["inputs"] = [Dataset("postgres://db:5432", f"public.t{i:05d}").to_dict() for i in range(5_000)]
    event["outputs"] = [
        {**Dataset("postgres://db:5432", f"public.o{i:05d}").to_dict(), "facets": {"x": {"y": "z" * 50}}}
        for i in range(5_000)
    ]
    fitted = fit_event(event, 16 * 1024)
    assert size_of(fitted) <= 16 * 1024
    assert len(whole) <= 5, f"the whole event was serialized {len(whole)} times"
