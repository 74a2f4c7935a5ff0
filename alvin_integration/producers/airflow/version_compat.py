"""Which Airflow runs here, as named facts computed once at import.

``packaging`` parses local versions such as ``2.10.5+composer``, which a hand-written split does
not. Branches read ``if AIRFLOW_V_2_10_PLUS:`` so that dropping a version is a search-and-delete.
"""

from __future__ import annotations

import os
import sys
from typing import Mapping, Optional, Tuple

from packaging.version import Version

from alvin_integration.emitter import configure_host


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


AIRFLOW_VERSION_TEXT = _installed_version()
AIRFLOW_VERSION, _BASE = parse_airflow_version(AIRFLOW_VERSION_TEXT)

AIRFLOW_V_2_PLUS = _BASE >= (2, 0, 0)
AIRFLOW_V_2_3_PLUS = _BASE >= (2, 3, 0)  # listener plugins
AIRFLOW_V_2_5_PLUS = _BASE >= (2, 5, 0)  # DAG-run listeners
AIRFLOW_V_2_10_PLUS = _BASE >= (2, 10, 0)  # try_number fixed per try; failed listener gets `error`
AIRFLOW_V_3_0_PLUS = _BASE >= (3, 0, 0)  # task SDK; no lineage backend
AIRFLOW_V_3_1_PLUS = _BASE >= (3, 1, 0)

# The versions an adapter exists for. Outside them nothing is reported (a guess could misreport).
SUPPORTED_RANGE = ((1, 10, 15), (4, 0, 0))  # from, up to (not including)
SUPPORTED_TEXT = "1.10.15 to 3.x"


def is_supported(version_text: str) -> bool:
    """Whether an adapter exists for this Airflow version (``SUPPORTED_RANGE``)."""
    base = parse_airflow_version(version_text)[1]
    return SUPPORTED_RANGE[0] <= base < SUPPORTED_RANGE[1]


AIRFLOW_SUPPORTED = is_supported(AIRFLOW_VERSION_TEXT)

COMPOSER_ENV_VARS = ("COMPOSER_ENVIRONMENT", "COMPOSER_VERSION", "COMPOSER_LOCATION", "GCP_PROJECT")


def is_composer(
    version_text: str = AIRFLOW_VERSION_TEXT, environ: Optional[Mapping[str, str]] = None
) -> bool:
    """Whether this Airflow is Google Cloud Composer's (``+composer`` build or its env vars)."""
    env = os.environ if environ is None else environ
    local = Version(version_text).local or ""
    return "composer" in local or bool(env.get("COMPOSER_ENVIRONMENT"))


# The core knows no host: name this Airflow to it once, for its User-Agent (airflow/<version>).
configure_host(f"airflow/{AIRFLOW_VERSION_TEXT}")
