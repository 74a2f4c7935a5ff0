"""Google Cloud Composer: the one place that knows it (detection, host facts, facets, spool default).

Composer is an Airflow build (``2.10.5+composer``) with environment variables of its own. It adds:

- the ``gcp_composer_job`` / ``gcp_composer_run`` facets, so Alvin links a run to its environment;
- a local spool directory: Composer's ``$AIRFLOW_HOME`` is a GCS FUSE mount, where the file locks
  the spool relies on do not work.

Importing this module registers that spool default with the core's settings (no Airflow import here,
so the CLI can import it too and find the same spool as the tasks).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Mapping, Optional

from packaging.version import InvalidVersion, Version

from alvin_integration.config import register_spool_default

if TYPE_CHECKING:
    from alvin_integration.model import Facet


def is_composer(version_text: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this is Cloud Composer's Airflow: its ``COMPOSER_ENVIRONMENT`` or a ``+composer`` build."""
    env = os.environ if environ is None else environ
    if env.get("COMPOSER_ENVIRONMENT"):
        return True
    try:
        if version_text is None:
            from alvin_integration.producers.airflow.version_compat import AIRFLOW_VERSION_TEXT

            version_text = AIRFLOW_VERSION_TEXT
        return "composer" in (Version(version_text).local or "")
    except (ImportError, InvalidVersion):  # no Airflow here (the CLI alone), or a version we cannot read
        return False


@dataclass(frozen=True)
class ComposerFacts:
    """The Composer environment events come from."""

    environment: str
    version: str


def composer_facts(
    version_text: Optional[str] = None, environ: Optional[Mapping[str, str]] = None
) -> Optional[ComposerFacts]:
    """This Composer environment's name and version, or None when this is not Composer."""
    env = os.environ if environ is None else environ
    if not is_composer(version_text, env):
        return None
    return ComposerFacts(
        env.get("COMPOSER_ENVIRONMENT") or "unknown", env.get("COMPOSER_VERSION") or "unknown"
    )


def composer_facets(
    facts: ComposerFacts,
    airflow_version: str,
    dag_id: str,
    dag_run_id: str,
    task_id: Optional[str] = None,
    operator: Optional[str] = None,
) -> Dict[str, Dict[str, Facet]]:
    """The job and run facets that place a DAG run or a task try in its Composer environment."""
    from alvin_integration.model import GcpComposerJobFacet, GcpComposerRunFacet

    return {
        "job": {
            "gcp_composer_job": GcpComposerJobFacet(
                facts.environment, dag_id, airflow_version, facts.version, task_id, operator
            )
        },
        "run": {"gcp_composer_run": GcpComposerRunFacet(dag_run_id)},
    }


def composer_spool_dir(environ: Mapping[str, str]) -> Optional[str]:
    """On Composer a local spool directory (its ``$AIRFLOW_HOME`` is a GCS FUSE mount); else None."""
    if not is_composer(environ=environ):
        return None
    return os.path.join(tempfile.gettempdir(), "alvin", "spool")


register_spool_default(composer_spool_dir)
