"""Settings: sources, precedence, validation with one actionable message."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import get_type_hints

import pytest

from alvin_integration.config import (
    ERROR_BAD_API_KEY,
    ERROR_BAD_BOOLEAN,
    ERROR_BAD_NUMBER,
    ERROR_BAD_SPOOL_DIR,
    ERROR_BAD_URL,
    ERROR_MISSING,
    SPECS,
    Settings,
    load_settings,
    settings_markdown,
)
from alvin_integration.doctor import Status, check_settings
from alvin_integration.redact import redact_text
from tests.support.readme import README, marked_table

REQUIRED = {
    "ALVIN_URL": "https://alvin.example.com/",
    "ALVIN_API_KEY": "k3y-from-env-123",
    "ALVIN_PLATFORM_ID": "airflowdev",
}
NO_CFG = "/nonexistent/airflow.cfg"


def test_required_settings_from_env() -> None:
    loaded = load_settings(dict(REQUIRED, AIRFLOW_HOME="/opt/airflow"), config_path=NO_CFG)
    assert loaded.ok and loaded.settings is not None
    assert loaded.settings.url == "https://alvin.example.com"  # trailing slash dropped
    assert loaded.settings.spool_dir == "/opt/airflow/alvin/spool"
    assert loaded.settings.flush_timeout == 5 and loaded.settings.verify_ssl is True
    assert loaded.sources["url"] == "env ALVIN_URL"


def test_airflow_cfg_section_and_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "airflow.cfg"
    cfg.write_text(
        "[core]\ndags_folder = /x\n[alvin]\nurl = https://from-cfg.example.com\napi_key = cfg-key-123456\n"
        "platform_id = cfgplatform\nflush_timeout = 2.5\nverify_ssl = false\n"
    )
    loaded = load_settings({"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__ALVIN__PLATFORM_ID": "envplatform"})
    assert loaded.settings is not None, loaded.problems
    assert loaded.settings.url == "https://from-cfg.example.com"
    assert loaded.settings.platform_id == "envplatform"  # AIRFLOW__ALVIN__* beats airflow.cfg
    assert loaded.settings.flush_timeout == 2.5 and loaded.settings.verify_ssl is False
    assert loaded.sources["api_key"] == "airflow.cfg [alvin] api_key"
    over = load_settings(
        {"AIRFLOW_CONFIG": str(cfg), "ALVIN_PLATFORM_ID": "winner", "AIRFLOW__ALVIN__PLATFORM_ID": "x"}
    )
    assert over.settings is not None and over.settings.platform_id == "winner"


def test_missing_settings_name_each_setting_and_the_fix() -> None:
    loaded = load_settings({}, config_path=NO_CFG)
    assert not loaded.ok and loaded.settings is None
    assert [p.env for p in loaded.problems] == ["ALVIN_URL", "ALVIN_API_KEY", "ALVIN_PLATFORM_ID"]
    assert {p.code for p in loaded.problems} == {ERROR_MISSING}
    line = loaded.summary()
    assert "\n" not in line and "tasks run as usual" in line
    assert (
        "ALVIN_URL is not set" in line
        and "[alvin] section of airflow.cfg" in line
        and "Cloud Composer" in line
    )


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("ALVIN_URL", "alvin.example.com", ERROR_BAD_URL),
        ("ALVIN_URL", "ftp://alvin.example.com", ERROR_BAD_URL),
        ("ALVIN_URL", "http://", ERROR_BAD_URL),
        ("ALVIN_HTTP_TIMEOUT", "soon", ERROR_BAD_NUMBER),
        ("ALVIN_FLUSH_TIMEOUT", "-1", ERROR_BAD_NUMBER),
        ("ALVIN_SPOOL_MAX_MB", "nan", ERROR_BAD_NUMBER),
        ("ALVIN_VERIFY_SSL", "maybe", ERROR_BAD_BOOLEAN),
        # values that parse but cannot work
        ("ALVIN_HTTP_TIMEOUT", "1e308", ERROR_BAD_NUMBER),
        ("ALVIN_HTTP_TIMEOUT", "nan", ERROR_BAD_NUMBER),
        ("ALVIN_HTTP_TIMEOUT", "0", ERROR_BAD_NUMBER),
        ("ALVIN_FLUSH_TIMEOUT", "1e308", ERROR_BAD_NUMBER),
        ("ALVIN_FLUSH_TIMEOUT", "-1", ERROR_BAD_NUMBER),
        ("ALVIN_SPOOL_MAX_MB", "1e308", ERROR_BAD_NUMBER),
        ("ALVIN_SPOOL_MAX_MB", "1e-12", ERROR_BAD_NUMBER),
        ("ALVIN_URL", "https://alvin.example.com:99999", ERROR_BAD_URL),
        ("ALVIN_URL", "https://alvin.example.com:port", ERROR_BAD_URL),
        ("ALVIN_URL", "https://alvin example.com", ERROR_BAD_URL),
        ("ALVIN_URL", "https://alvin.example.com/a\tb", ERROR_BAD_URL),
        ("ALVIN_API_KEY", "k3y-\u00e9-non-ascii", ERROR_BAD_API_KEY),
        ("ALVIN_API_KEY", "k3y-with\x07bell", ERROR_BAD_API_KEY),
        ("ALVIN_API_KEY", "two words", ERROR_BAD_API_KEY),
        ("ALVIN_SPOOL_DIR", "~no-such-user-xyz/spool", ERROR_BAD_SPOOL_DIR),
    ],
)
def test_invalid_values_disable_with_a_coded_problem(name: str, value: str, code: str) -> None:
    loaded = load_settings(dict(REQUIRED, **{name: value}), config_path=NO_CFG)
    assert loaded.settings is None
    assert [(p.env, p.code) for p in loaded.problems] == [(name, code)]
    assert code in loaded.summary()
    message = str(loaded.problems[0])
    assert "set the environment variable" in message and "Traceback" not in message


def test_disabled_wins_and_needs_nothing_else() -> None:
    loaded = load_settings({"ALVIN_DISABLED": "true"}, config_path=NO_CFG)
    assert loaded.disabled and not loaded.ok and not loaded.problems
    assert "ALVIN_DISABLED" in loaded.summary()


def test_api_key_never_shows_in_repr_or_text() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_API_KEY="very-secret-key-42"), config_path=NO_CFG)
    assert "very-secret-key-42" not in repr(loaded.settings)
    assert redact_text("key is very-secret-key-42!") == "key is ***!"


def test_password_in_url_is_registered_as_secret() -> None:
    load_settings(dict(REQUIRED, ALVIN_URL="https://user:hunter2-pass@alvin.example.com"), config_path=NO_CFG)
    assert "hunter2-pass" not in redact_text("calling hunter2-pass")


def test_every_setting_has_env_name_and_help() -> None:
    assert all(spec.env == "ALVIN_" + spec.key.upper() and spec.help for spec in SPECS)


def test_settings_has_a_field_per_declared_setting_typed_as_it_parses() -> None:
    declared = [spec for spec in SPECS if spec.in_settings]
    assert [f.name for f in fields(Settings)] == [spec.key for spec in declared]
    hints = get_type_hints(Settings)
    for spec in declared:
        assert hints[spec.key] == get_type_hints(spec.parse)["return"], spec.key
    assert {f.name for f in fields(Settings) if not f.repr} == {spec.key for spec in SPECS if spec.secret}


def test_the_defaults_of_settings_are_the_declared_ones() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_SPOOL_DIR="/spool"), config_path=NO_CFG)
    assert loaded.settings == Settings(
        url="https://alvin.example.com",
        api_key=REQUIRED["ALVIN_API_KEY"],
        platform_id="airflowdev",
        spool_dir="/spool",
    )
    assert loaded.settings.flush_timeout == 5.0 and loaded.settings.reconcile_interval == 0.0


def test_a_number_has_a_range_and_says_it_in_its_help() -> None:
    for spec in SPECS:
        assert (spec.limits is not None) == ("{range}" in spec.help), spec.key
    assert SPECS[0].meaning == SPECS[0].help and "{range}" not in settings_markdown()


def test_an_out_of_range_number_names_its_range_in_full() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_SPOOL_MAX_MB="1e308"), config_path=NO_CFG)
    assert "is not a number from 1 to 1048576;" in str(loaded.problems[0])  # not 1.04858e+06


def test_the_readme_table_is_the_generated_one() -> None:
    assert marked_table(README.read_text(), "settings") == settings_markdown()


def test_doctor_shows_the_declared_settings_and_only_the_length_of_a_secret() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_API_KEY="very-secret-key-42"), config_path=NO_CFG)
    check = check_settings(loaded)
    assert check.status is Status.OK
    assert check.detail == (
        "url=https://alvin.example.com platform_id=airflowdev API key set (18 chars, from env ALVIN_API_KEY)"
    )
