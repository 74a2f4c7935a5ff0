"""Cloud Composer: one detector, its facts and facets, and the core's local spool default there."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from alvin_integration.config import default_spool_dir, load_settings
from alvin_integration.producers.airflow.composer import composer_facets, composer_facts, is_composer
from tests.support.processes import REPO

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
    composer = dict(
        REQUIRED, AIRFLOW_HOME="/home/airflow/gcs", COMPOSER_ENVIRONMENT="prod", TMPDIR="/var/tmp/w"
    )
    loaded = load_settings(composer, config_path=NO_CFG)
    assert loaded.settings is not None
    assert loaded.settings.spool_dir == "/var/tmp/w/alvin/spool"  # not the GCS FUSE mount: no file locks
    assert loaded.spool_dir_origin.startswith("Cloud Composer: a local directory")
    assert default_spool_dir(composer) == loaded.settings.spool_dir  # the one rule every process reads
    for elsewhere in ({}, {"COMPOSER_ENVIRONMENT": ""}):  # set but empty: not Composer
        other = load_settings(dict(REQUIRED, AIRFLOW_HOME="/opt/airflow", **elsewhere), config_path=NO_CFG)
        assert other.settings is not None and other.settings.spool_dir == "/opt/airflow/alvin/spool"
        assert other.spool_dir_origin == "default: $AIRFLOW_HOME/alvin/spool"
    chosen = load_settings(dict(composer, ALVIN_SPOOL_DIR="/data/spool"), config_path=NO_CFG)
    assert chosen.settings is not None and chosen.settings.spool_dir == "/data/spool"
    assert chosen.spool_dir_origin == "set by env ALVIN_SPOOL_DIR"


def test_the_composer_spool_does_not_depend_on_what_was_imported(tmp_path: Path) -> None:
    # A process that never imports the Airflow producer (the CLI, doctor) and one that imports it
    # (a task) must name the same directory: the default is the core's, read from the environment.
    code = """
        import sys
        from alvin_integration.config import load_settings
        before = load_settings().settings.spool_dir
        assert "alvin_integration.producers.airflow.composer" not in sys.modules
        import alvin_integration.producers.airflow.composer
        after = load_settings().settings.spool_dir
        print(before)
        print(after)
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALVIN_", "AIRFLOW", "COMPOSER_"))}
    env.update(
        REQUIRED,
        COMPOSER_ENVIRONMENT="prod",
        AIRFLOW_HOME=str(tmp_path / "gcs"),
        TMPDIR=str(tmp_path),
        PYTHONPATH=REPO + os.pathsep + env.get("PYTHONPATH", ""),
    )
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    expected = str(tmp_path / "alvin" / "spool")
    assert result.stdout.splitlines() == [expected, expected]
