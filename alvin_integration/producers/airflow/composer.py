"""Google Cloud Composer: the one place that knows it (detection, host facts, facets).

Composer is an Airflow build (``2.10.5+composer``) with environment variables of its own. It adds
the ``gcp_composer_job`` / ``gcp_composer_run`` facets, so Alvin links a run to its environment.

The spool directory is not decided here. Composer's ``$AIRFLOW_HOME`` is a GCS FUSE mount without
the file locks the spool relies on; the core's ``config.default_spool_dir`` puts the spool on local
disk wherever ``$COMPOSER_ENVIRONMENT`` is set (Composer sets it in every process), from the
environment alone, so the CLI, doctor and the tasks name the same directory whatever each imported
first. A ``+composer`` build without that variable gets the facets, not the local spool.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Mapping, Optional

from packaging.version import InvalidVersion, Version

from alvin_integration.config import COMPOSER_ENVIRONMENT_VARIABLE, is_composer_environment

if TYPE_CHECKING:
    from alvin_integration.model import Facet


def is_composer(version_text: Optional[str] = None, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this is Cloud Composer's Airflow: its ``COMPOSER_ENVIRONMENT`` or a ``+composer`` build."""
    env = os.environ if environ is None else environ
    if is_composer_environment(env):
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
        env.get(COMPOSER_ENVIRONMENT_VARIABLE) or "unknown", env.get("COMPOSER_VERSION") or "unknown"
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
