"""Redaction against hostile input: every secret name, every form of a secret, bounded patterns.

Generated from the one list of secret names in ``alvin_integration.redact``, so a name dropped from
the list fails here; the property tests plant random secrets in random places.
"""

from __future__ import annotations

import json
import sys
from typing import Any, List

import pytest

from alvin_integration.model import ErrorMessageRunFacet, SQLJobFacet
from alvin_integration.redact import (
    _TEXT_PATTERNS,
    _URL_USER,
    _URL_USERINFO,
    MASK,
    REDACTOR,
    SECRET_PARAMETERS,
    SECRET_TOKENS,
    SECRET_WORDS,
    Redactor,
    is_sensitive_key,
    register_secret,
)

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants
    from re import _parser as sre_parse
else:  # pragma: no cover - Python < 3.11
    import sre_constants
    import sre_parse

SECRET = "Zq7-s3cr3t-Value"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def names_of(word: str) -> List[str]:
    """The ways a name holding a secret word is spelled in configs, code and environments."""
    upper = word.upper()
    return [word, upper, f"db_{word}_2", f"{word}_plain", f"{word}s", f"PG{upper}", f"MY_{upper}", f"x{word}"]


@pytest.mark.parametrize("name", [n for word in SECRET_WORDS for n in names_of(word)])
def test_every_name_holding_a_secret_word_masks_its_value_as_a_key_in_text_and_in_urls(
    redactor: Redactor, name: str
) -> None:
    assert is_sensitive_key(name)
    assert redactor.value({"outer": {name: SECRET}}) == {"outer": {name: MASK}}
    for text in (
        f"{name}={SECRET}",
        f"export {name}='{SECRET}'",
        f'{{"{name}": "{SECRET}"}}',
        f"{name}: {SECRET}",
        f"https://host/path?page=2&{name}={SECRET}",  # in a URL's query
        f"https://host/path?{name}={SECRET}#top",
    ):
        assert SECRET not in redactor.text(text), text


@pytest.mark.parametrize("token", SECRET_TOKENS)
def test_short_secret_names_count_as_whole_words_only(redactor: Redactor, token: str) -> None:
    for name in (token, token.upper(), f"db_{token}", f"MYSQL_{token.upper()}", f"{token}-2"):
        assert is_sensitive_key(name), name
        assert SECRET not in redactor.text(f"{name}={SECRET}"), name
        assert redactor.value({name: SECRET}) == {name: MASK}
    assert redactor.text(f"by{token}x=keep") == f"by{token}x=keep"  # not a word of its own


@pytest.mark.parametrize("parameter", SECRET_PARAMETERS)
def test_secret_query_parameters_are_masked(redactor: Redactor, parameter: str) -> None:
    for url in (f"https://h/p?{parameter}={SECRET}&page=2", f"https://h/p?a=1&{parameter}={SECRET}"):
        masked = redactor.text(url)
        assert SECRET not in masked and "https://h/p?" in masked


@pytest.mark.parametrize(
    "text",
    [
        f"DB_PASSWORD={SECRET}",
        f"PGPASSWORD={SECRET} psql",
        f"AWS_SECRET_ACCESS_KEY={SECRET}",
        f"SECRET_KEY={SECRET}",
        f"GITHUB_TOKEN={SECRET}",
        f"MYSQL_PWD={SECRET}",
        f"https://h/x?key={SECRET}",
        f"https://h/x?a=b&pass={SECRET}",
        f"postgres://etl:{SECRET}/with/slash@db:5432/x",
        f"postgres://etl:p@ss{SECRET}@db:5432/x",
        f"mysql://etl:{SECRET}@db",
        f"ALTER USER bob IDENTIFIED BY {SECRET};",
        f"CREATE USER bob PASSWORD '{SECRET}'",
        f"Authorization: Bearer {SECRET}x.y",
        f'password = "{SECRET} with spaces"',
    ],
)
def test_secrets_the_review_found_in_text_are_masked(redactor: Redactor, text: str) -> None:
    assert SECRET not in redactor.text(text)


def test_a_pem_private_key_is_masked_whole(redactor: Redactor) -> None:
    body = "\n".join(["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "Zq7s3cr3tBodyLine2AAAAB3NzaC1yc2E", "xyz=="])
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    for text in (f"key: {pem} trailing", pem.replace("\n-----END RSA PRIVATE KEY-----", "")):
        masked = redactor.text(text)
        assert "Zq7s3cr3tBodyLine2" not in masked and "xyz==" not in masked and "MIIEvQ" not in masked


def test_keys_that_hold_a_secret_are_masked_and_mask_their_value(redactor: Redactor) -> None:
    masked = redactor.value(
        {f"postgres://u:{SECRET}@h/db": "v", f"password={SECRET}": 1, 7: {"password": "x"}}
    )
    serialized = json.dumps(masked)
    assert SECRET not in serialized and '"7": {"password": "***"}' in serialized


def test_every_form_of_a_registered_secret_is_masked(redactor: Redactor) -> None:
    key = f"  {SECRET}'\"\\k\n"  # white space around it (a mounted secret file), quotes, a backslash
    redactor.register(key)
    for form in (
        key,
        key.strip(),
        repr(key.strip()),
        json.dumps(key.strip()),
        repr({"X-API-KEY": key.strip()}),
    ):
        assert SECRET not in redactor.text(f"error: {form} rejected"), form


def test_secrets_are_masked_before_long_text_is_cut() -> None:
    # a secret straddling the cut: its tail must not survive
    register_secret("Straddling-Secret-Value-42")
    query = "SELECT 1 -- " + "x" * (SQLJobFacet.MAX_QUERY - 20) + " Straddling-Secret-Value-42"
    assert "Value-42" not in json.dumps(SQLJobFacet(query).to_dict())
    trace = "password='Straddling-2nd-secret' " + "y" * (ErrorMessageRunFacet.MAX_STACK_TRACE - 20)
    assert "2nd-secret" not in json.dumps(ErrorMessageRunFacet("m", trace).to_dict())


def _repeats(pattern: str) -> List[Any]:
    """Every repeat of a regex with the repeats nested inside it: (max, inner repeats)."""
    found = []

    def walk(items: Any, depth: int) -> None:
        for op, arg in items:
            if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                found.append((arg[1], depth))
                walk(arg[2], depth + 1)
            elif op in (sre_constants.SUBPATTERN,):
                walk(arg[-1], depth)
            elif op == sre_constants.BRANCH:
                for branch in arg[1]:
                    walk(branch, depth)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(arg[1], depth)

    walk(sre_parse.parse(pattern), 0)
    return found


@pytest.mark.parametrize("pattern", [*_TEXT_PATTERNS, _URL_USER.pattern, _URL_USERINFO.pattern])
def test_every_pattern_is_bounded_and_has_no_nested_repeat(pattern: str) -> None:
    # linear time: each repeat scans a bounded number of characters, and none repeats another
    for maximum, depth in _repeats(pattern):
        assert maximum <= 65_536, f"unbounded repeat in {pattern[:60]}"
        assert depth == 0, f"nested repeat in {pattern[:60]}"


def test_hostile_text_is_redacted_and_says_what_it_hides() -> None:
    # worst cases the fuzzing found, in small; the benchmark times them at 1 MB
    for text in (
        "a://b:" * 3000 + "@",
        "password=" * 3000,
        "?key=&pass=" * 3000,
        "-----BEGIN PRIVATE KEY-----" * 500,
        "://" + "@" * 3000,
        ("://" + "b" * 509) * 10 + "@",
        "password '" * 3000,
        'password "' + "a" * 5000,
        "-----BEGIN PRIVATE KEY-----\\n" * 500,
    ):
        masked = REDACTOR.text(text)
        assert isinstance(masked, str) and MASK in masked


# Names that must stay secret whatever the list in redact.py says: dropping one from that list
# removes its generated tests above, so this fixed copy is the contract.
MUST_STAY_SECRET = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "private_key",
    "authorization",
    "credentials",
    "access_key",
    "cookie",
    "session_key",
    "keyfile",
    "key_json",
    "keyfile_dict",
    "signature",
    "passphrase",
)


@pytest.mark.parametrize("name", MUST_STAY_SECRET)
def test_the_names_users_rely_on_stay_secret(redactor: Redactor, name: str) -> None:
    assert is_sensitive_key(name)
    assert redactor.value({"extra": {name: SECRET}}) == {"extra": {name: MASK}}
    assert SECRET not in redactor.text(f"{name}={SECRET}")
