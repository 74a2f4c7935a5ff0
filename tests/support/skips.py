"""Every condition a test is skipped on, with its reason: one place to read what runs where.

Row conditions come from the Airflow version facts (``version_compat``) and the matrix row; where
Airflow is not installed (the unit environments) every row condition skips, saying so.
"""

from __future__ import annotations

import os

import pytest

from tests.support.matrix import is_light

try:
    from alvin_integration.producers.airflow import version_compat
    from tests.support.matrix import current_row

    ROW = current_row()
except ImportError:  # no Airflow here
    version_compat = None
    ROW = {"env": "", "run": "", "airflow": ""}

_NO_AIRFLOW = version_compat is None
_NEEDS_AIRFLOW = "needs Airflow: run it through tox (make test)"


def _row_skip(condition: bool, reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(_NO_AIRFLOW or condition, reason=_NEEDS_AIRFLOW if _NO_AIRFLOW else reason)


# --- optional extras of the package (tox installs them; a contributor's `pip install -e ".[dev]"` may not)
def _installs(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


needs_sql_extra = pytest.mark.skipif(
    not _installs("openlineage_sql"),
    reason='SQL lineage needs the [sql] extra: pip install -e ".[dev,sql]" (tox installs it)',
)

# --- the machine
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork and kill -9 (POSIX)")

# --- the Airflow version
needs_listener_api = _row_skip(
    not _NO_AIRFLOW and not version_compat.AIRFLOW_V_2_3_PLUS,
    "Airflow 1.10-2.2 report through wrappers of real TaskInstance methods (e2e backfill tests)",
)
needs_dag_run_events = _row_skip(
    not _NO_AIRFLOW and not version_compat.NEEDS_LINEAGE_BACKEND and not version_compat.AIRFLOW_V_2_5_PLUS,
    "Airflow 2.3 and 2.4 have no DAG-run listener (README, doctor)",
)
needs_hook_lineage = _row_skip(
    not _NO_AIRFLOW and not version_compat.AIRFLOW_V_2_10_PLUS,
    "hooks collect lineage from Airflow 2.10 on",
)
needs_contrib_snowflake_hook = _row_skip(
    not _NO_AIRFLOW and version_compat.AIRFLOW_V_2_PLUS,
    "only Airflow 1.10's contrib SnowflakeHook keeps no query ids (the providers' hook: tests/vendors)",
)
needs_flask_plugins_page = _row_skip(
    not _NO_AIRFLOW and (not version_compat.AIRFLOW_V_2_PLUS or version_compat.AIRFLOW_V_3_0_PLUS),
    "the Flask webserver's Plugins page is Airflow 2's (1.10 has none; Airflow 3's UI reads the same "
    "plugin information as `airflow plugins`, tested in tests/airflow)",
)

# --- the matrix row
composer_row_only = _row_skip(not ROW.get("composer"), "the Composer layer is tested on the composer row")
full_rows_only = _row_skip(
    is_light(ROW),
    f"{ROW['env']} is a light row (compat/matrix.toml): one run of the example DAG, not this one",
)
runs_task_processes = _row_skip(
    ROW["run"] == "dags test",
    "this row runs the example DAG with `airflow dags test`, which fires no DAG-run listener",
)
runs_dags_test = _row_skip(
    ROW["run"] != "dags test", "this row's e2e runs already go through a backfill job, a process per task"
)
not_composer_row = _row_skip(
    bool(ROW.get("composer")), "the composer row runs the af2 adapter, whose deployment af2 tests"
)


def _celery_installs() -> bool:
    try:
        import celery  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError:
        return False
    return True


runs_celery = _row_skip(
    is_light(ROW) or not _celery_installs(),
    "the Celery deployment runs on the full rows (af2, af3, composer, af22, af110: Celery, its Redis "
    "client and psycopg2 pinned there); light rows run one backfill of the example DAG",
)
kills_celery_processes = _row_skip(
    bool(ROW.get("composer")),
    "the composer row runs the af2 adapter, whose killed processes and reconcile af2 tests",
)
soak_row_only = _row_skip(ROW["env"] != "af2", "the small soak runs on af2 (make soak runs the full size)")
# Onboarding and health (issue 27): the newest Airflow 2 and 3 rows and 1.10; the rows between them
# share the listener or backend paths these tests go through, and CI's time is spent once.
ONBOARDING_ROWS = ("af2", "af3", "af110")
onboarding_rows_only = _row_skip(
    ROW["env"] not in ONBOARDING_ROWS,
    f"{ROW['env']}: the backfill and metrics runs are tested on {', '.join(ONBOARDING_ROWS)}",
)
