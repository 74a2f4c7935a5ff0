"""Which Airflow runs here, as named facts computed once at import.

``packaging`` parses local versions such as ``2.10.5+composer``, which a hand-written split does
not. Branches read ``if AIRFLOW_V_2_10_PLUS:`` so that dropping a version is a search-and-delete.
"""

from __future__ import annotations

import sys
from typing import Final, List, Tuple  # Final: these facts are never reassigned

from packaging.version import Version

from alvin_integration.host import configure_host


def parse_airflow_version(text: str) -> Tuple[Version, Tuple[int, int, int]]:
    """The full version and its (major, minor, micro), e.g. ``2.10.5+composer``."""
    version = Version(text)
    return version, (version.major, version.minor, version.micro)


def _installed_version() -> str:
    # Without importing Airflow: on 1.10 and 2.0-2.2 importing it loads the configured [lineage]
    # backend, ours, which reads this module; a tool that imports us first would go round in a circle.
    loaded = getattr(sys.modules.get("airflow"), "__version__", None)
    if loaded:
        return str(loaded)
    try:
        from importlib.metadata import version

        return version("apache-airflow")  # a Composer build's local version (+composer) included
    except Exception:
        from airflow import __version__

        return str(__version__)


AIRFLOW_VERSION_TEXT: Final[str] = _installed_version()
AIRFLOW_VERSION, _BASE = parse_airflow_version(AIRFLOW_VERSION_TEXT)

AIRFLOW_V_2_PLUS: Final[bool] = _BASE >= (2, 0, 0)
AIRFLOW_V_2_3_PLUS: Final[bool] = _BASE >= (2, 3, 0)  # listener plugins
AIRFLOW_V_2_5_PLUS: Final[bool] = _BASE >= (2, 5, 0)  # DAG-run listeners
AIRFLOW_V_2_10_PLUS: Final[bool] = _BASE >= (
    2,
    10,
    0,
)  # try_number fixed per try; failed listener gets `error`
AIRFLOW_V_3_0_PLUS: Final[bool] = _BASE >= (3, 0, 0)  # task SDK; no lineage backend
AIRFLOW_V_3_1_PLUS: Final[bool] = _BASE >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS: Final[bool] = _BASE >= (3, 2, 0)  # hook lineage in the SDK; DagBag in dag_processing

# The versions an adapter exists for. Outside them nothing is reported (a guess could misreport).
SUPPORTED_RANGE: Final = ((1, 10, 15), (4, 0, 0))  # from, up to (not including)
SUPPORTED_TEXT: Final[str] = "1.10.15 to 3.x"


def is_supported(version_text: str) -> bool:
    """Whether an adapter exists for this Airflow version (``SUPPORTED_RANGE``)."""
    base = parse_airflow_version(version_text)[1]
    return SUPPORTED_RANGE[0] <= base < SUPPORTED_RANGE[1]


AIRFLOW_SUPPORTED: Final[bool] = is_supported(AIRFLOW_VERSION_TEXT)

# Airflow 1.10 to 2.2 have no listener API: users name our [lineage] backend in airflow.cfg.
LINEAGE_BACKEND_CLASS: Final[str] = (
    "alvin_integration.producers.airflow.lineage.backend.AlvinAirflowLineageBackend"
)


def needs_lineage_backend(version_text: str) -> bool:
    """Whether this version reports only with ``[lineage] backend`` set (1.10 to 2.2)."""
    return parse_airflow_version(version_text)[1] < (2, 3, 0)


NEEDS_LINEAGE_BACKEND: Final[bool] = needs_lineage_backend(AIRFLOW_VERSION_TEXT)


def needs_eager_plugins(version_text: str) -> bool:
    """Whether this version's scheduler loads our plugin only with ``[core] lazy_load_plugins = False``.

    Airflow 2.0-2.2 load plugins lazily by default and their scheduler never asks for them, so the
    wrapper that reports DAG runs is never installed there (1.10 loads plugins on import; 2.3+ loads
    listener plugins when a listener is called).
    """
    base = parse_airflow_version(version_text)[1]
    return (2, 0, 0) <= base < (2, 3, 0)


NEEDS_EAGER_PLUGINS: Final[bool] = needs_eager_plugins(AIRFLOW_VERSION_TEXT)
EAGER_PLUGINS_SETTING: Final = ("core", "lazy_load_plugins", "False")  # [section] option = value

# The metadata database, created or upgraded: the first command this version knows (2.7+/3.x,
# 2.0-2.6, 1.10); the demo and the tests try them in this order.
INIT_DB_COMMANDS: Final[Tuple[Tuple[str, ...], ...]] = (("db", "migrate"), ("db", "init"), ("initdb",))


def run_dag_command(dag_id: str, date: str, task_processes: bool, version_text: str) -> List[str]:
    """The ``airflow`` arguments that run one DAG run of ``date`` on this version.

    ``task_processes``: each try as its own ``airflow tasks run --local`` process (a backfill), as
    every executor runs it; otherwise ``dags test`` in one process. Before 2.3 a backfill is the only
    form in which the ``[lineage] backend`` and our wrappers see every try.
    """
    base = parse_airflow_version(version_text)[1]
    if base < (2, 0, 0):
        return ["backfill", dag_id, "-s", date, "-e", date]
    if task_processes or base < (2, 3, 0):
        return ["dags", "backfill", dag_id, "-s", date, "-e", date]
    return ["dags", "test", dag_id, date]


# The core knows no host: name this Airflow to it once, for its User-Agent (airflow/<version>).
configure_host(f"airflow/{AIRFLOW_VERSION_TEXT}")
