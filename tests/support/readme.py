"""The README's generated tables: each lives between ``<!-- name:start -->`` and ``<!-- name:end -->``."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"


def marked_table(readme: str, name: str) -> str:
    """The text between the README's ``name`` markers."""
    start, end = _markers(name)
    assert start in readme and end in readme, f"README.md lost its {name} markers"
    return readme.split(start, 1)[1].split(end, 1)[0]


def with_table(readme: str, name: str, table: str) -> str:
    """The README with ``table`` between its ``name`` markers."""
    start, end = _markers(name)
    head = readme.split(start, 1)[0]
    tail = readme.split(start, 1)[1].split(end, 1)[1]
    return head + start + table + end + tail
