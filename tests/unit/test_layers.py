"""The Airflow producer's imports point one way: plugin → adapters → report → extract/read/events → compat.

Read from the source with ``ast`` (no Airflow needed): every import, at module level or inside a
function, of every module. A module may import its own layer or any layer below, never one above,
and no modules import each other round in a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "alvin_integration"
PRODUCER = "alvin_integration.producers.airflow"

# Highest first. A module's layer is that of the longest prefix naming it.
LAYERS: List[Set[str]] = [
    {"alvin_integration.cli", "alvin_integration.doctor", "alvin_integration.demo"},  # tools
    {f"{PRODUCER}.plugin", f"{PRODUCER}.lineage"},  # what Airflow loads by name
    {f"{PRODUCER}.adapters"},
    {
        f"{PRODUCER}.report",
        f"{PRODUCER}.reconcile",
        f"{PRODUCER}.dag_definitions",
        f"{PRODUCER}.preview",
        f"{PRODUCER}.backfill",
    },
    {
        f"{PRODUCER}.extract",
        f"{PRODUCER}.read",
        f"{PRODUCER}.events",
        f"{PRODUCER}.history",
        f"{PRODUCER}.selection",
    },
    {f"{PRODUCER}.composer"},
    {f"{PRODUCER}.compat", f"{PRODUCER}.version_compat", f"{PRODUCER}.host_attrs", f"{PRODUCER}.wrap"},
    {"alvin_integration"},  # the core: no Airflow, no producer
]
NAMES = [
    "tools",
    "Airflow's entry points",
    "adapters",
    "report",
    "extract/read/events",
    "composer",
    "compat",
    "core",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    best, found = -1, len(LAYERS) - 1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    return found


def imports_of(path: Path, modules: Set[str]) -> Set[str]:
    """Our modules ``path`` imports (``from pkg import submodule`` names the submodule)."""
    found: Set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], base]).strip(".")
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {name for name in found if name in modules and name != "alvin_integration"}


def import_graph() -> Dict[str, Set[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(paths)
    return {name: imports_of(path, modules) for name, path in paths.items()}


def test_every_producer_module_has_a_layer() -> None:
    for module in import_graph():
        if module.startswith(PRODUCER + "."):
            assert layer_of(module) < len(LAYERS) - 1, f"{module} is in no layer of this test"


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} ({NAMES[layer_of(module)]}) imports {target} ({NAMES[layer_of(target)]})"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if layer_of(target) < layer_of(module)
    ]
    assert upward == []


def test_extraction_imports_nothing_from_the_adapters() -> None:
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith(f"{PRODUCER}.extract"):
            assert not [t for t in targets if t.startswith(f"{PRODUCER}.adapters")], module


def test_compat_imports_nothing_of_ours_above_the_version_facts() -> None:
    assert import_graph()[f"{PRODUCER}.compat"] <= {f"{PRODUCER}.version_compat"}


def test_no_modules_import_each_other_in_a_circle() -> None:
    graph = import_graph()
    state: Dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: List[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circle = [*path[path.index(target) :], target] if target in path else [module, target]
                pytest.fail("import circle: " + " -> ".join(circle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_layer_rule_sees_an_upward_import() -> None:
    assert layer_of(f"{PRODUCER}.extract.sql") > layer_of(f"{PRODUCER}.adapters.legacy")
    assert layer_of(f"{PRODUCER}.compat") > layer_of(f"{PRODUCER}.extract.task_lineage")
    assert layer_of("alvin_integration.model") > layer_of(f"{PRODUCER}.compat")
