"""Secret masking: keys at any depth, secrets inside text, registered values, fail closed."""

from __future__ import annotations

import logging

import pytest

from alvin_integration.logs import get_logger
from alvin_integration.redact import MASK, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_sensitive_keys_are_masked_at_any_depth(redactor: Redactor) -> None:
    value = {
        "conn": {
            "login": "bob",
            "password": "pw-1",
            "extra": {"client_secret": "cs", "nested": [{"api_key": "k"}]},
        },
        "Authorization": "Bearer abc",
        "private_key": "-----BEGIN",
        "credentials": {"a": 1},
        "token": None,
        "dag_id": "keep",
    }
    masked = redactor.value(value)
    assert masked["conn"]["login"] == "bob" and masked["dag_id"] == "keep"
    assert masked["conn"]["password"] == MASK
    assert masked["conn"]["extra"]["client_secret"] == MASK
    assert masked["conn"]["extra"]["nested"][0]["api_key"] == MASK
    assert masked["Authorization"] == MASK and masked["private_key"] == MASK and masked["credentials"] == MASK
    assert masked["token"] is None
    assert value["conn"]["password"] == "pw-1"  # the input is not changed


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://user:s3cr3t-pw@db:5432/x", "s3cr3t-pw"),
        ("snowflake://me:pa55word@acct/db?warehouse=w", "pa55word"),
        ("host=db password=s3cr3t-pw dbname=x", "s3cr3t-pw"),
        ("https://api?token=abcdef123&x=1", "abcdef123"),
        ('{"api_key": "abc123xyz"}', "abc123xyz"),
        ("CREATE USER bob PASSWORD 'Tr0ub4dor'", "Tr0ub4dor"),
        ('ALTER USER bob IDENTIFIED BY "Tr0ub4dor"', "Tr0ub4dor"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc", "eyJhbGciOiJIUzI1NiJ9.abc"),
    ],
)
def test_secrets_inside_text_are_masked(redactor: Redactor, text: str, secret: str) -> None:
    masked = redactor.text(text)
    assert secret not in masked and MASK in masked


def test_registered_values_are_masked_everywhere(redactor: Redactor) -> None:
    redactor.register("registered-secret-1", None, "abc")  # too short values are ignored
    assert redactor.text("x registered-secret-1 y") == f"x {MASK} y"
    assert redactor.value(["registered-secret-1"]) == [MASK]
    assert redactor.text("abc") == "abc"


def test_a_field_that_cannot_be_masked_is_dropped(redactor: Redactor) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no")

    masked = redactor.value({"ok": 1, "bad": Hostile(), "list": [Hostile(), 2]})
    assert masked == {"ok": 1, "list": [2]}


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    from alvin_integration.redact import register_secret

    register_secret("log-secret-value-9")
    logger = get_logger("alvin_integration.test")
    with caplog.at_level(logging.INFO, logger="alvin_integration"):
        logger.info("key %s and dsn %s", "log-secret-value-9", "mysql://u:pw12345@h/db")
        try:
            raise ValueError("failed with log-secret-value-9")
        except ValueError:
            logger.exception("boom")
    text = caplog.text
    assert "log-secret-value-9" not in text and "pw12345" not in text
    assert text.count(MASK) >= 3
