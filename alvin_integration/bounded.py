"""One idiom, named: a dictionary kept to a bounded size by forgetting its oldest entries."""

from __future__ import annotations

from typing import Dict, TypeVar

K = TypeVar("K")
V = TypeVar("V")


def put_bounded(mapping: Dict[K, V], key: K, value: V, limit: int) -> None:
    """Set ``mapping[key] = value``, then forget the oldest entries (insertion order) beyond ``limit``."""
    mapping[key] = value
    while len(mapping) > limit:
        mapping.pop(next(iter(mapping)))
