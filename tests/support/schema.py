"""Validate emitted events against the official OpenLineage JSON Schemas, offline.

The schemas are read from ``../shared/openlineage-spec`` when present (the project's reference
copy), else from the copy under ``tests/openlineage-spec``; ``$ref``s resolve to local files.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parent.parent
SPEC_DIRS = [_REPO.parent / "shared" / "openlineage-spec", _HERE.parent / "openlineage-spec"]
ALVIN_SCHEMAS = _REPO / "alvin_integration" / "schemas"


def spec_dir() -> Path:
    """The OpenLineage schema folder in use."""
    for folder in SPEC_DIRS:
        if (folder / "OpenLineage.json").is_file():
            return folder
    raise FileNotFoundError(f"OpenLineage schemas not found in {SPEC_DIRS}")


@lru_cache(maxsize=1)
def registry() -> Registry:
    """Every schema, keyed by its ``$id``."""
    resources = []
    folder = spec_dir()
    for path in [folder / "OpenLineage.json", *sorted((folder / "facets").glob("*.json"))]:
        resources.append(json.loads(path.read_text()))
    resources.extend(json.loads(p.read_text()) for p in sorted(ALVIN_SCHEMAS.glob("*.json")))
    return Registry().with_resources((doc["$id"], Resource.from_contents(doc)) for doc in resources)


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": ref}, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def _facets(event: Dict[str, Any]) -> List[Dict[str, Any]]:
    found = []
    for holder in [
        event.get("run", {}),
        event.get("job", {}),
        *event.get("inputs", []),
        *event.get("outputs", []),
    ]:
        found.extend((holder.get("facets") or {}).values())
    return found


def schema_errors(event: Dict[str, Any]) -> List[str]:
    """Every violation of the RunEvent schema and of each facet's own schema (by its _schemaURL)."""
    errors = [
        f"event: {e.message}"
        for e in _validator("https://openlineage.io/spec/2-0-2/OpenLineage.json").iter_errors(event)
    ]
    for facet in _facets(event):
        url = facet.get("_schemaURL", "")
        errors.extend(f"{url}: {e.message}" for e in _validator(url).iter_errors(facet))
    return errors


def assert_valid(event: Dict[str, Any]) -> None:
    """Fail with every schema violation listed."""
    errors = schema_errors(event)
    assert not errors, "\n".join(errors)
