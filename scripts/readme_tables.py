"""Rewrites the README's generated tables from their one declaration each.

The settings table comes from ``alvin_integration.config.SPECS``, the operator table from the
operator families (``extract/operators/``), the supported versions from ``compat/matrix.toml``;
unit tests keep the README equal to each. Run from the
repository root after changing either: ``make readme``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alvin_integration.config import settings_markdown
from alvin_integration.producers.airflow.extract.operators import families_markdown
from tests.support.matrix import matrix_markdown
from tests.support.readme import README, with_table

TABLES = {"settings": settings_markdown, "operator-families": families_markdown, "matrix": matrix_markdown}


def main() -> int:
    """Write every generated table into README.md; say which changed."""
    before = README.read_text()
    after = before
    for name, render in TABLES.items():
        after = with_table(after, name, render())
    README.write_text(after)
    print("README.md: " + ("tables rewritten" if after != before else "tables already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
