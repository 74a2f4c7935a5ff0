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
    return len(json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))


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
    if size_of(event) <= max_bytes:
        return event
    cut: List[str] = []
    reserve = 2_048  # room for the list of cuts
    _cut_texts(event, max_bytes - reserve, cut)
    for kind in ("inputs", "outputs"):
        for index, dataset in enumerate(event.get(kind) or []):
            if size_of(event) <= max_bytes - reserve:
                break
            if isinstance(dataset, dict) and dataset.get("facets"):
                dataset.pop("facets")
                cut.append(f"{kind}[{index}].facets")
    for kind in ("inputs", "outputs"):
        datasets = event.get(kind) or []
        while len(datasets) > 1 and size_of(event) > max_bytes - reserve:
            datasets.pop()
            if f"{kind}[...]" not in cut:
                cut.append(f"{kind}[...]")
    if size_of(event) > max_bytes - reserve:
        _bare(event, cut)
    alvin = _alvin(event)
    if alvin is not None:
        alvin["truncated"] = cut[:50]
    if size_of(event) > max_bytes and alvin is not None:  # the list of cuts itself: its count only
        alvin["truncated"] = [f"{len(cut)} fields"]
    return event


def _cut_texts(event: Dict[str, Any], budget: int, cut: List[str]) -> None:
    for _ in range(100):  # bounded: many small texts are the later cuts' job
        excess = size_of(event) - budget
        if excess <= 0:
            return
        path, text = max(_texts(event), key=lambda item: len(item[1]), default=((), ""))
        if len(text) <= MIN_TEXT or not path:
            return
        keep = max(MIN_TEXT, len(text) - excess - len(MARK) - 16)
        _set(event, path, text[:keep] + MARK)
        name = _name(path)
        if name not in cut:
            cut.append(name)


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
