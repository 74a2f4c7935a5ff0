"""An outage under load, small (3 runs of 10 tasks): the API stops for the middle third of the tries.

``make soak`` runs the full size and prints the figures (benchmarks/soak.py); this test asserts
what must hold at any size: every try and DAG run at the API once per event type, every task ended
as it would without us. No time is asserted.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.services import postgres_database
from tests.support.skips import runs_celery, soak_row_only
from tests.support.soak import run_soak

pytestmark = [runs_celery, soak_row_only]


def test_an_outage_under_load_loses_no_event_and_changes_no_outcome(tmp_path: Path) -> None:
    with postgres_database() as database:
        result = run_soak(tmp_path, database, runs=3, tasks=10, parallelism=8, outage=True)
    print(result.summary())
    assert result.states == {"success": 30}
    assert result.missing == set(), sorted(result.missing)[:10]
