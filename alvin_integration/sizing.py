"""Events cut to a size the API takes: the largest fields first, never the event itself.

An event is never dropped for its size and never sent oversize. The cuts, in order, until it fits:
the longest texts (SQL, stack traces, messages) shortened from the end; dataset facets (column
lineage first) removed; dataset lists shortened; at last, every facet but the ``alvin`` facet's
identity removed. The ``alvin`` run facet lists what was cut (``truncated``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Optional, Tuple

Path = Tuple[Any, ...]
MIN_TEXT = 256  # a text is never cut below this: beyond, other cuts come first
MARK = " ...[cut by alvin-integration]"
_KEEP_ALVIN = ("dag_id", "task_id", "run_id", "try_number", "map_index", "state", "platform_id")


def size_of(event: Dict[str, Any]) -> int:
    """The event's size as sent: compact JSON, UTF-8."""
    return _json_bytes(event)


def _texts(value: Any, path: Path = ()) -> Iterator[Tuple[Path, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _texts(item, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _name(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def _set(event: Dict[str, Any], path: Path, value: Any) -> None:
    target: Any = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _alvin(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    facets = event.get("run", {}).get("facets", {})
    alvin = facets.get("alvin")
    return alvin if isinstance(alvin, dict) else None


def fit_event(event: Dict[str, Any], max_bytes: int) -> Dict[str, Any]:
    """``event`` (a RunEvent as JSON, changed in place) cut to at most ``max_bytes``; see the module."""
    size = size_of(event)
    if size <= max_bytes:
        return event
    cut: List[str] = []
    budget = max_bytes - 2_048  # room for the list of cuts
    # Each cut changes the compact JSON by exactly its part's change in size: the event's size is
    # kept by arithmetic, so thousands of datasets cost one pass, not one serialization per cut.
    size = _cut_texts(event, size, budget, cut)
    for kind in ("inputs", "outputs"):
        for index, dataset in enumerate(event.get(kind) or []):
            if size <= budget:
                break
            if isinstance(dataset, dict) and dataset.get("facets"):
                before = _json_bytes(dataset)
                dataset.pop("facets")
                size -= before - _json_bytes(dataset)
                cut.append(f"{kind}[{index}].facets")
    for kind in ("inputs", "outputs"):
        datasets = event.get(kind) or []
        while len(datasets) > 1 and size > budget:
            size -= _json_bytes(datasets.pop()) + 1  # the element and its comma
            if f"{kind}[...]" not in cut:
                cut.append(f"{kind}[...]")
    if size_of(event) > budget:
        _bare(event, cut)
    alvin = _alvin(event)
    if alvin is not None:
        alvin["truncated"] = cut[:50]
    if size_of(event) > max_bytes and alvin is not None:  # the list of cuts itself: its count only
        alvin["truncated"] = [f"{len(cut)} fields"]
    return event


def _json_bytes(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


def _cut_texts(event: Dict[str, Any], size: int, budget: int, cut: List[str]) -> int:
    """The longest texts shortened from the end, longest first, until ``size`` is within ``budget``;
    returns the event's new size. No text is cut below ``MIN_TEXT``: many small texts are the
    later cuts' job."""
    for path, text in sorted(_texts(event), key=lambda item: len(item[1]), reverse=True):
        excess = size - budget
        if excess <= 0 or len(text) <= MIN_TEXT or not path:
            break
        keep = max(MIN_TEXT, len(text) - excess - len(MARK) - 16)
        shorter = text[:keep] + MARK
        _set(event, path, shorter)
        size -= _json_bytes(text) - _json_bytes(shorter)
        name = _name(path)
        if name not in cut:
            cut.append(name)
    return size


def _bare(event: Dict[str, Any], cut: List[str]) -> None:
    """Only what identifies the run is left: every facet but the alvin facet's identity goes."""
    run, job = event.get("run", {}), event.get("job", {})
    alvin = _alvin(event) or {}
    kept = {key: alvin[key] for key in _KEEP_ALVIN if key in alvin}
    for key in ("_producer", "_schemaURL"):
        if key in alvin:
            kept[key] = alvin[key]
    run["facets"] = {"alvin": kept} if alvin else {}
    job["facets"] = {}
    event["inputs"], event["outputs"] = [], []
    cut.append("all facets and datasets")
