"""The row of compat/matrix.toml that the running tox environment stands for."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[2]

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python < 3.11
    import tomli as tomllib


def rows() -> List[Dict[str, Any]]:
    """Every row of the matrix."""
    return list(tomllib.loads((REPO / "compat" / "matrix.toml").read_text())["row"])


def current_row() -> Dict[str, Any]:
    """The row named by ALVIN_MATRIX_ROW (tox sets it), else the row of the installed Airflow.

    Under ALVIN_UNCONSTRAINED (``make test-latest``: the newest releases, no constraints) the row
    stands for the Airflow that was installed, which may be newer than the row's pin.
    """
    name = os.environ.get("ALVIN_MATRIX_ROW")
    if not name:
        import airflow

        major = airflow.__version__.split(".")[0]
        name = {"1": "af110", "2": "af2", "3": "af3"}[major]
    row = next(row for row in rows() if row["env"] == name)
    if os.environ.get("ALVIN_UNCONSTRAINED"):
        import airflow

        row = dict(row, airflow=airflow.__version__)
    return row


def is_light(row: Dict[str, Any]) -> bool:
    """Whether a row runs only the light set (the middle of Airflow 2; see compat/matrix.toml)."""
    return row.get("scope") == "light"


def matrix_markdown() -> str:
    """The README's supported-version table, one line per row (``make readme`` writes it)."""
    lines = [
        "| tox env | Airflow | Python | how it hooks in | what the row proves | status |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows():
        lines.append(
            f"| `{row['env']}` | {row['airflow']} | {row['python']} | {row['mechanism']} "
            f"| {row.get('proves', '')} | {row['status']} |"
        )
    return "\n".join(lines) + "\n"
