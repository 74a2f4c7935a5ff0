"""Lineage extractors of users' own operators: an entry point or a setting, never a raise.

An extractor is a function ``extract(task) -> Optional[Mapping]`` returning ``inputs`` and
``outputs`` (``Dataset`` objects, ``(namespace, name)`` pairs, URIs or Airflow lineage entities)
and optionally ``run_facets`` (OpenLineage facets as dicts, with their ``_schemaURL``); None when
the operator is not one it knows. Two ways to register one:

- the entry point group ``alvin_integration.extractors``, named after the operator class it
  serves (``MyOperator = my_package.lineage:extract``; ``*`` for every operator);
- ``ALVIN_EXTRACTORS`` (or ``extractors`` in ``[alvin]``): comma-separated ``module:function`` (called
  for every operator) or ``MyOperator=module:function`` paths.

What an extractor raises, or returns in a shape we cannot read, becomes ``extractionError``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from alvin_integration.model import ALVIN_FACET_SCHEMA_URL, Dataset, Facet
from alvin_integration.producers.airflow.compat import entry_points_airflow_read
from alvin_integration.producers.airflow.extract.declared import entity_to_dataset

GROUP = "alvin_integration.extractors"
EVERY_OPERATOR = "*"
Extractor = Callable[[Any], Optional[Mapping[str, Any]]]
_registered: Dict[str, List[Tuple[str, Extractor]]] = {}  # setting -> operator name -> extractors


@dataclass
class JsonFacet(Facet):
    """A facet an extractor returned as JSON, sent as it is (its ``_schemaURL`` included)."""

    content: Dict[str, Any] = field(default_factory=dict)

    def fields(self) -> Dict[str, Any]:
        return {k: v for k, v in self.content.items() if k not in ("_producer", "_schemaURL")}

    def to_dict(self) -> Dict[str, Any]:
        out = super().to_dict()
        out["_schemaURL"] = str(self.content.get("_schemaURL") or ALVIN_FACET_SCHEMA_URL)
        return out


@dataclass
class Extracted:
    """What the extractors of one operator found, and what failed."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    run_facets: Dict[str, Facet] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)


def _load(path: str) -> Extractor:
    module, _, name = path.strip().partition(":")
    function = getattr(importlib.import_module(module), name)
    if not callable(function):
        raise TypeError(f"{path} is not a function")
    return function  # type: ignore[no-any-return]


def _entry_points() -> List[Tuple[str, str]]:
    read = entry_points_airflow_read(GROUP)  # Airflow read them all in this process (its plugins)
    return read if read is not None else scan_entry_points()


def scan_entry_points() -> List[Tuple[str, str]]:
    """(name, value) of the extractor entry points, read from the distributions that name them."""
    # Only the distributions whose entry_points.txt names our group are parsed: entry_points()
    # parses every installed distribution's (Airflow brings about 200), some 10 ms per process.
    from importlib.metadata import distributions

    found: List[Tuple[str, str]] = []
    seen: Set[str] = set()  # a distribution on sys.path twice is served once, as entry_points() does
    for distribution in distributions():
        text = distribution.read_text("entry_points.txt")
        if not text or f"[{GROUP}]" not in text:
            continue
        name = str(distribution.metadata["Name"])
        if name in seen:
            continue
        seen.add(name)
        found.extend(
            (str(point.name), str(point.value)) for point in distribution.entry_points if point.group == GROUP
        )
    return found


def registered(setting: Optional[str], errors: List[str]) -> List[Tuple[str, Extractor]]:
    """(operator name, extractor) pairs from the entry points and the setting, loaded once."""
    key = setting or ""
    if key not in _registered:
        pairs: List[Tuple[str, Extractor]] = []
        items = _entry_points() + [
            tuple(item.split("=", 1)) if "=" in item else (EVERY_OPERATOR, item)  # type: ignore[misc]
            for item in (i.strip() for i in key.split(","))
            if item
        ]
        for operator, path in items:
            try:
                pairs.append((operator.strip(), _load(path)))
            except Exception as exc:
                errors.append(f"extractor {path.strip()!r} could not be loaded: {type(exc).__name__}: {exc}")
        _registered[key] = pairs
    return _registered[key]


def _dataset(item: Any) -> Optional[Dataset]:
    if isinstance(item, Dataset):
        return item
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return Dataset(str(item[0]), str(item[1]))
    if isinstance(item, Mapping) and "namespace" in item and "name" in item:
        return Dataset(str(item["namespace"]), str(item["name"]))
    return entity_to_dataset(item)


def run_extractors(task: Any, setting: Optional[str]) -> Extracted:
    """What the extractors registered for this operator's class (or for every operator) return."""
    found = Extracted()
    names = {type(task).__name__, f"{type(task).__module__}.{type(task).__name__}", EVERY_OPERATOR}
    for operator, extractor in registered(setting, found.errors):
        if operator not in names:
            continue
        label = getattr(extractor, "__qualname__", repr(extractor))
        try:
            result = extractor(task)
            if result is None:
                continue
            for kind, target in (("inputs", found.inputs), ("outputs", found.outputs)):
                for item in result.get(kind) or []:
                    dataset = _dataset(item)
                    if dataset is None:
                        raise ValueError(f"{kind} item {item!r} names no dataset")
                    target.append(dataset)
            for name, facet in dict(result.get("run_facets") or {}).items():
                found.run_facets[str(name)] = facet if isinstance(facet, Facet) else JsonFacet(dict(facet))
        except Exception as exc:  # the user's code: whatever it raises stays here
            found.errors.append(f"extractor {label} failed: {type(exc).__name__}: {exc}")
    return found
