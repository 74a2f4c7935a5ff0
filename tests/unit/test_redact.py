"""Secret masking: keys at any depth, secrets inside text, registered values, fail closed."""

from __future__ import annotations

import json
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
        # a token as a URL's user, with no password (git and package registry URLs)
        ("git clone https://ghp_abc123TOKENxyz@github.com/org/repo.git", "ghp_abc123TOKENxyz"),
        ("pip install git+https://gho_Tok3n-x.y~z@github.com/o/r@v1.2", "gho_Tok3n-x.y~z"),
        ("https://npm_R3gistryT0ken@registry.example.com:8443/pkg?x=1", "npm_R3gistryT0ken"),
        ('{"remote":"https://glpat-T0kenInJson@gitlab.example.com/g/p.git"}', "glpat-T0kenInJson"),
        ("https://Tok3n@Part@host/x", "Tok3n@Part"),
        # a quoted secret cut off before its closing quote (a truncated statement or log line)
        ("ALTER ROLE r PASSWORD 'q3ZycCutOff", "q3ZycCutOff"),
        ('CREATE USER u WITH PASSWORD "q3Zyc Cut Off\nnext line', "q3Zyc Cut Off"),
        ("CREATE USER u PASSWORD = 'q3ZycCutOff; -- and more", "q3ZycCutOff"),
        ("ALTER USER u IDENTIFIED BY 'q3Zyc Cut Off", "q3Zyc Cut Off"),
        ('ALTER USER u IDENTIFIED BY "q3Zyc Cut Off', "q3Zyc Cut Off"),
        ('{"password": "q3Zyc Cut Off', "q3Zyc Cut Off"),
        ("export DB_TOKEN='q3Zyc Cut Off", "q3Zyc Cut Off"),
        # a PEM private key in JSON or repr text, its newlines escaped
        (
            '{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\nq3ZycPemBody\\n-----END PRIVATE KEY-----\\n"}',
            "q3ZycPemBody",
        ),
        (
            '"{\\"key\\": \\"-----BEGIN RSA PRIVATE KEY-----\\\\nq3ZycPemBody\\\\n'
            '-----END RSA PRIVATE KEY-----\\\\n\\"}"',
            "q3ZycPemBody",
        ),
        (
            "{'key': '-----BEGIN EC PRIVATE KEY-----\\r\\nMHcCAQ\\r\\nq3ZycPemBody\\r\\n"
            "-----END EC PRIVATE KEY-----'}",
            "q3ZycPemBody",
        ),
        ('{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\nq3ZycPemBody\\nZZ', "q3ZycPemBody"),
    ],
)
def test_secrets_inside_text_are_masked(redactor: Redactor, text: str, secret: str) -> None:
    masked = redactor.text(text)
    assert MASK in masked
    assert not any(part in masked for part in secret.split()), masked  # no word of it either


def test_a_url_token_is_masked_and_the_url_around_it_kept(redactor: Redactor) -> None:
    masked = redactor.text("git clone https://ghp_abc123TOKENxyz@github.com/org/repo.git")
    assert masked == f"git clone https://{MASK}@github.com/org/repo.git"
    assert redactor.text("https://user:s3cr3t-pw@h/db") == f"https://user:{MASK}@h/db"  # the user kept


@pytest.mark.parametrize(
    "text",
    [
        # dataset namespaces and names: no user part
        "postgres://db.example:5432",
        "s3://bucket/path/file@2024-01-01.parquet",
        "gs://bucket/k@v1 bigquery snowflake://account kafka://b1:9092,b2:9092",
        # an e-mail address in text, near a URL but not in it
        "see https://example.com or write to bob@example.com",
        '{"url": "https://example.com", "mail": "bob@example.com"}',
        "<https://example.com>bob@example.com",
        # "password" as a quoted word: no secret follows, the line is kept
        'column "password" does not exist',
        "WHERE kind = 'password' AND x = 1",
        'FATAL: password authentication failed for user "etl"',
    ],
)
def test_text_without_a_secret_is_kept(redactor: Redactor, text: str) -> None:
    assert redactor.text(text) == text


def test_a_secret_cut_off_is_masked_to_the_end_of_its_line_only(redactor: Redactor) -> None:
    masked = redactor.text("ALTER ROLE r PASSWORD 'q3ZycCutOff\nSELECT 1;")
    assert masked == f"ALTER ROLE r PASSWORD {MASK}\nSELECT 1;"


def test_a_pem_key_with_escaped_newlines_is_masked_whole(redactor: Redactor) -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\nq3ZycPemBody==\n-----END PRIVATE KEY-----\n"
    masked = redactor.text(json.dumps({"key": pem, "project": "p"}))
    assert masked == '{"key": "-----BEGIN PRIVATE KEY-----' + MASK + '\\n", "project": "p"}'


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
