"""Property tests: a random secret planted anywhere in a random event never survives redaction."""

from __future__ import annotations

import base64
import json
from typing import Any, Callable, Dict

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="the property tests need hypothesis (the dev extra)")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from alvin_integration.redact import SECRET_TOKENS, SECRET_WORDS, Redactor  # noqa: E402

# what a secret is made of: no white space or separators (they end a value in any syntax)
SECRETS = st.text(
    alphabet=st.sampled_from("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.~+/!$%*^"),
    min_size=10,
    max_size=40,
).map(lambda s: "Q" + s + "9")  # never empty, never a run of separators
NAMES = st.sampled_from(SECRET_WORDS + SECRET_TOKENS).flatmap(
    lambda word: st.sampled_from(
        [word, word.upper(), f"db_{word}", f"{word.upper()}_2", f"APP_{word.upper()}"]
    )
)
NOISE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)

# ways a secret sits in text (name, secret) -> text
TEXT_FORMS: Dict[str, Callable[[str, str], str]] = {
    "assignment": lambda n, s: f"{n}={s}",
    "env export": lambda n, s: f"export {n}='{s}'",
    "json": lambda n, s: json.dumps({n: s}),
    "yaml": lambda n, s: f"{n}: {s}",
    "url password": lambda n, s: f"postgres://etl:{s}@db.example:5432/x",
    "url password with @ and /": lambda n, s: f"mysql://etl:a@b/{s}@db:3306/x",
    "query parameter": lambda n, s: f"https://api.example/v1?page=2&key={s}&x=1",
    "sql password": lambda n, s: f"CREATE USER etl PASSWORD '{s}'",
    "sql identified by": lambda n, s: f"ALTER USER etl IDENTIFIED BY {s};",
    "bearer": lambda n, s: f"Authorization: Bearer {s}",
    # a token as a URL's user (git, registries); a "/" in it is percent-encoded, as in a real URL
    "url token as user": lambda n, s: f"git clone https://{s.replace('/', '%2F')}@github.com/org/repo.git",
    # a quoted secret cut off before its closing quote: a truncated statement, value or log line
    "sql password cut off": lambda n, s: f"ALTER ROLE etl PASSWORD '{s}",
    "sql password cut off, double quotes": lambda n, s: f'CREATE USER etl WITH PASSWORD "{s}',
    "sql identified by cut off": lambda n, s: f"ALTER USER etl IDENTIFIED BY '{s}",
    "json cut off": lambda n, s: json.dumps({n: s})[:-2],
    # JSON inside a string (a conf or an error message that quotes a payload): its quotes escaped
    "json in json": lambda n, s: json.dumps(json.dumps({n: s, "x": 1})),
    "json in json in json": lambda n, s: json.dumps(json.dumps(json.dumps({n: s}))),
    "repr of json": lambda n, s: repr(json.dumps({n: s})),
}

# a token as a URL's user, in the places URLs are written (token) -> text
TOKEN_URL_FORMS: Dict[str, Callable[[str], str]] = {
    "git clone": lambda t: f"git clone https://{t}@github.com/org/repo.git",
    "pip": lambda t: f"pip install git+https://{t}@github.com/org/repo.git@v1.2#egg=x",
    "registry with port": lambda t: f"https://{t}@registry.example.com:8443/pkg?page=2",
    "user part with an @": lambda t: f"https://{t}@ci@host.example/x",
    "json": lambda t: json.dumps(
        {"remote": f"https://{t}@gitlab.example.com/g/p.git"}, separators=(",", ":")
    ),
    "repr": lambda t: repr({"remote": f"ssh://{t}@host.example:22/repo"}),
    "end of text": lambda t: f"https://{t}@h",
}
# what a token is made of in a URL's user part: no "/", ":" or "@" (they are percent-encoded)
TOKENS = st.text(
    alphabet=st.sampled_from("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.~+!$%*^"),
    min_size=10,
    max_size=60,
).map(lambda s: "Q" + s + "9")

# a PEM block as text shows it: as written, in JSON (once or twice), in repr (pem) -> text
PEM_ESCAPES: Dict[str, Callable[[str], str]] = {
    "as written": lambda pem: pem,
    "json": lambda pem: json.dumps({"key": pem, "project_id": "p"}),
    "json, compact": lambda pem: json.dumps({"key": pem}, separators=(",", ":")),
    "json in json": lambda pem: json.dumps(json.dumps({"key": pem})),
    "repr": lambda pem: repr({"key": pem}),
}
PEM_BODIES = st.binary(min_size=24, max_size=900).map(lambda b: base64.b64encode(b).decode("ascii"))


def nest(value: Any, path: Any) -> Any:
    """``value`` placed at a random depth of dicts and lists."""
    for kind, key in path:
        value = {key: value} if kind == "dict" else [1, value, "x"]
    return value


PATHS = st.lists(
    st.tuples(st.sampled_from(["dict", "list"]), st.sampled_from(["a", "conf", "extra", "0"])), max_size=5
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    secret=SECRETS,
    name=NAMES,
    form=st.sampled_from(sorted(TEXT_FORMS)),
    before=NOISE,
    after=NOISE,
    path=PATHS,
)
def test_a_secret_in_text_never_survives(
    secret: str, name: str, form: str, before: str, after: str, path: Any
) -> None:
    text = f"{before} {TEXT_FORMS[form](name, secret)} {after}"
    out = json.dumps(Redactor().value(nest(text, path)), ensure_ascii=False)
    assert secret not in out


@settings(max_examples=300, deadline=None, database=None)
@given(token=TOKENS, form=st.sampled_from(sorted(TOKEN_URL_FORMS)), before=NOISE, after=NOISE, path=PATHS)
def test_a_token_as_a_urls_user_never_survives(
    token: str, form: str, before: str, after: str, path: Any
) -> None:
    text = f"{before} {TOKEN_URL_FORMS[form](token)} {after}"
    out = json.dumps(Redactor().value(nest(text, path)), ensure_ascii=False)
    assert token not in out


@settings(max_examples=300, deadline=None, database=None)
@given(
    body=PEM_BODIES,
    kind=st.sampled_from(["", "RSA ", "EC ", "ENCRYPTED ", "OPENSSH "]),
    newline=st.sampled_from(["\n", "\r\n"]),
    escape=st.sampled_from(sorted(PEM_ESCAPES)),
    has_end=st.booleans(),
    before=NOISE,
    after=NOISE,
    path=PATHS,
)
def test_a_pem_private_key_never_survives_escaped_or_not(
    body: str, kind: str, newline: str, escape: str, has_end: bool, before: str, after: str, path: Any
) -> None:
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    end = f"-----END {kind}PRIVATE KEY-----{newline}" if has_end else ""
    pem = f"-----BEGIN {kind}PRIVATE KEY-----{newline}" + newline.join(lines) + newline + end
    text = f"{before} {PEM_ESCAPES[escape](pem)} {after}"
    out = json.dumps(Redactor().value(nest(text, path)), ensure_ascii=False)
    for line in lines:
        assert len(line) < 16 or line not in out  # a short last line may occur by chance


@settings(max_examples=300, deadline=None, database=None)
@given(secret=SECRETS, name=NAMES, path=PATHS, as_key=st.booleans())
def test_a_secret_under_a_secret_name_or_as_a_key_never_survives(
    secret: str, name: str, path: Any, as_key: bool
) -> None:
    planted = {f"postgres://u:{secret}@h/db": "x"} if as_key else {name: secret}
    out = json.dumps(Redactor().value(nest(planted, path)), ensure_ascii=False)
    assert secret not in out


@settings(max_examples=200, deadline=None, database=None)
@given(secret=SECRETS, pad=st.sampled_from(["", " ", "\n", " \t\n"]), before=NOISE, after=NOISE)
def test_a_registered_secret_never_survives_in_any_form(
    secret: str, pad: str, before: str, after: str
) -> None:
    redactor = Redactor()
    redactor.register(pad + secret + pad)
    for shown in (secret, repr(secret), json.dumps(secret), repr({"X-API-KEY": secret})):
        assert secret not in redactor.text(f"{before}{shown}{after}")


@settings(max_examples=200, deadline=None, database=None)
@given(text=st.text(max_size=2000))
def test_any_text_redacts_to_text(text: str) -> None:
    assert isinstance(Redactor().text(text), str)


@pytest.mark.parametrize("form", sorted(TEXT_FORMS))
def test_a_planted_secret_reaches_no_log_spool_dead_letter_or_doctor_line(
    form: str, spool_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import os
    from pathlib import Path

    from alvin_integration.doctor import Check, Status
    from alvin_integration.emitter import Emitter
    from alvin_integration.logs import get_logger
    from alvin_integration.redact import redact_text
    from alvin_integration.spool import Record
    from tests.support.events import settings_for, task_event
    from tests.support.fault_server import refused_url

    secret = "Qplanted-Sink-Secret-9"
    text = TEXT_FORMS[form]("password", secret)
    with caplog.at_level(logging.INFO, logger="alvin_integration"):
        get_logger("alvin_integration.test").warning("while sending: %s", text)
    emitter = Emitter(settings_for(refused_url(), spool_dir))
    try:
        emitter.emit(task_event(1, details={"note": text, "nested": [{"cmd": text}]}))
        emitter.spool.dead_letter(Record("dl-1", "/api/v1/lineage", b'{"x":1}'), 400, f"rejected: {text}")
    finally:
        emitter.close(timeout=1)
    doctor_lines = [
        redact_text(line) for line in Check("tcp", Status.FAIL, f"cannot connect: {text}").lines()
    ]
    places = {"log": caplog.text, "doctor": "\n".join(doctor_lines)}
    for root, _, files in os.walk(spool_dir):
        for name in files:
            try:
                places[name] = Path(root, name).read_bytes().decode("utf-8", "replace")
            except FileNotFoundError:  # a temporary file renamed meanwhile
                continue
    assert any(name.endswith(".seg") for name in places) and "dead-letter.jsonl" in places
    for where, content in places.items():
        assert secret not in content, f"{form}: leaked into {where}"
