"""The Composer module: one detector, its facts and facets, and the spool default it gives the core."""

from __future__ import annotations

from alvin_integration.config import load_settings
from alvin_integration.producers.airflow.composer import composer_facets, composer_facts, is_composer

REQUIRED = {"ALVIN_URL": "https://alvin.example.com", "ALVIN_API_KEY": "k" * 24, "ALVIN_PLATFORM_ID": "p"}
NO_CFG = "/nonexistent/airflow.cfg"


def test_composer_is_its_environment_variable_or_a_composer_build() -> None:
    assert is_composer("2.10.5", environ={"COMPOSER_ENVIRONMENT": "prod"})
    assert is_composer("2.10.5+composer", environ={})
    assert not is_composer("2.11.2", environ={})
    assert not is_composer("not a version", environ={})


def test_facts_and_facets_name_the_environment() -> None:
    env = {"COMPOSER_ENVIRONMENT": "prod", "COMPOSER_VERSION": "2.9.7"}
    facts = composer_facts("2.10.5", env)
    assert facts is not None and (facts.environment, facts.version) == ("prod", "2.9.7")
    assert composer_facts("2.10.5", {}) is None
    facets = composer_facets(facts, "2.10.5", "dag", "manual__1", "task", "BashOperator")
    job = facets["job"]["gcp_composer_job"].to_dict()
    assert (job["environmentName"], job["dagId"], job["taskId"], job["composerVersion"]) == (
        "prod",
        "dag",
        "task",
        "2.9.7",
    )
    assert facets["run"]["gcp_composer_run"].to_dict()["dagRunId"] == "manual__1"


def test_composer_spool_defaults_to_local_disk() -> None:
    loaded = load_settings(
        dict(REQUIRED, AIRFLOW_HOME="/home/airflow/gcs", COMPOSER_ENVIRONMENT="prod"), config_path=NO_CFG
    )
    assert loaded.settings is not None
    assert not loaded.settings.spool_dir.startswith("/home/airflow/gcs")  # GCS FUSE: no file locks
    elsewhere = load_settings(dict(REQUIRED, AIRFLOW_HOME="/opt/airflow"), config_path=NO_CFG)
    assert elsewhere.settings is not None and elsewhere.settings.spool_dir == "/opt/airflow/alvin/spool"
