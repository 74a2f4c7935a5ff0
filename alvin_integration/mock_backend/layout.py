"""A left-to-right layered layout of the lineage graph (ours, small: no JavaScript library to vendor).

Layers by longest path over the graph with its cycles broken (a job that reads and writes one
table), rows by a few barycenter sweeps to cut crossings, then each node placed near the mean
height of its neighbours in the layer before it. Deterministic: the same graph, the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet, Dict, List, Sequence, Set, Tuple

NODE_WIDTH = 220
NODE_HEIGHT = 40
GAP_X = 90
GAP_Y = 14
SWEEPS = 4

Edge = Tuple[str, str]


@dataclass
class Layout:
    """Where each node goes (x, y of its top-left corner, its layer) and which edges point back."""

    positions: Dict[str, Dict[str, int]] = field(default_factory=dict)
    back_edges: Set[Edge] = field(default_factory=set)
    width: int = 0
    height: int = 0


def _back_edges(nodes: Sequence[str], succs: Dict[str, List[str]]) -> Set[Edge]:
    """Edges that close a cycle, found by an iterative depth-first search in the given order."""
    back: Set[Edge] = set()
    colour: Dict[str, int] = {}  # 1 on the current path, 2 done
    for root in nodes:
        if root in colour:
            continue
        colour[root] = 1
        stack = [(root, iter(succs[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
            elif colour.get(child) == 1:
                back.add((node, child))
            elif child not in colour:
                colour[child] = 1
                stack.append((child, iter(succs[child])))
    return back


def _layers(nodes: Sequence[str], edges: List[Edge]) -> Dict[str, int]:
    """Longest-path layers over an acyclic edge list (Kahn's order)."""
    preds: Dict[str, List[str]] = {n: [] for n in nodes}
    succs: Dict[str, List[str]] = {n: [] for n in nodes}
    for source, target in edges:
        succs[source].append(target)
        preds[target].append(source)
    waiting = {n: len(preds[n]) for n in nodes}
    ready = [n for n in nodes if waiting[n] == 0]
    layer = {n: 0 for n in nodes}
    while ready:
        node = ready.pop()
        for child in succs[node]:
            layer[child] = max(layer[child], layer[node] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    return layer


def layout(nodes: Sequence[str], edges: Sequence[Edge], jobs: AbstractSet[str] = frozenset()) -> Layout:
    """Place ``nodes`` (in the order that groups them, e.g. by namespace) left to right along ``edges``.

    A node without edges stands with its kind: ``jobs`` in the second column, datasets in the first.
    """
    succs: Dict[str, List[str]] = {n: [] for n in nodes}
    for source, target in edges:
        succs[source].append(target)
    back = _back_edges(nodes, succs)
    forward = [(s, t) for s, t in edges if (s, t) not in back and s != t]
    layer = _layers(nodes, forward)
    linked = {n for edge in forward for n in edge}
    if linked:
        for node in nodes:
            if node not in linked:
                layer[node] = 1 if node in jobs else 0
    columns: Dict[int, List[str]] = {}
    for node in nodes:
        columns.setdefault(layer[node], []).append(node)
    preds: Dict[str, List[str]] = {n: [] for n in nodes}
    succ_f: Dict[str, List[str]] = {n: [] for n in nodes}
    for source, target in forward:
        preds[target].append(source)
        succ_f[source].append(target)
    row = {n: i for column in columns.values() for i, n in enumerate(column)}
    order = sorted(columns)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        for index in order[1:] if down else reversed(order[:-1]):
            neighbours = preds if down else succ_f
            column = columns[index]

            def centre(node: str, neighbours: Dict[str, List[str]] = neighbours) -> float:
                near = neighbours[node]
                return sum(row[n] for n in near) / len(near) if near else float(row[node])

            column.sort(key=lambda n: (centre(n), row[n]))
            row.update((n, i) for i, n in enumerate(column))
    out = Layout(back_edges=back)
    step = NODE_HEIGHT + GAP_Y
    y_of: Dict[str, int] = {}
    for index in order:
        floor = 0
        for node in columns[index]:
            near = [y_of[p] for p in preds[node] if p in y_of]
            wanted = sum(near) // len(near) if near else floor
            y = max(floor, wanted)
            y_of[node] = y
            floor = y + step
            x = index * (NODE_WIDTH + GAP_X)
            out.positions[node] = {"x": x, "y": y, "layer": index}
            out.width = max(out.width, x + NODE_WIDTH)
            out.height = max(out.height, y + NODE_HEIGHT)
    return out
