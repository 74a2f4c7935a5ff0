"""No secret planted in settings, an event or an error path reaches a log, the spool or a body."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from alvin_integration.circuit import CircuitBreaker
from alvin_integration.client import AlvinClient, RetryPolicy
from alvin_integration.emitter import Emitter
from alvin_integration.model import ErrorMessageRunFacet, RunEvent, SQLJobFacet
from alvin_integration.redact import MASK
from tests.support.events import settings_for, task_event
from tests.support.fault_server import FaultServer, refused_url

PLANTED_KEY = "planted-api-key-4f9a1c"
PLANTED = [
    PLANTED_KEY,
    "planted-conn-password-77",
    "planted-url-password-88",
    "planted-token-99",
    "planted-sql-password-11",
    "planted-env-pass-55",
    "planted-keyed-66",
    "plantedPEMbody77",
]


def test_planted_secrets_never_leave_in_clear(
    fault_server: FaultServer, spool_dir: str, caplog: pytest.LogCaptureFixture
) -> None:
    fault_server.queue("echo:400", "echo:500", "ok", "echo:401")
    # the key as a mounted secret file gives it: with a trailing newline
    settings = settings_for(
        fault_server.url, spool_dir, ALVIN_API_KEY=PLANTED_KEY + "\n", ALVIN_VERBOSE_LOG="true"
    )
    emitter = Emitter(
        settings,
        client=AlvinClient(settings, RetryPolicy(base_delay=0.01, window=2)),
        breaker=CircuitBreaker(base=0.05, cap=0.1),
        window=1,
    )
    event = task_event(
        1,
        details={
            "conn": {"login": "etl", "password": "planted-conn-password-77"},
            "uri": "postgresql://etl:planted-url-password-88@db:5432/x",
            "extra": {"access_token": "planted-token-99"},
            "note": f"the key is {PLANTED_KEY}",
            "command": "PGPASSWORD=planted-env-pass-55 psql -h db",
            "postgres://etl:planted-keyed-66@db/x": "a secret in a key",
            "pem": "-----BEGIN PRIVATE KEY-----\nMIIEvQ\nplantedPEMbody77\n-----END PRIVATE KEY-----",
        },
    )
    event.job.facets["sql"] = SQLJobFacet("CREATE USER etl PASSWORD 'planted-sql-password-11'")
    event.run.facets["errorMessage"] = ErrorMessageRunFacet(
        f"auth failed for {PLANTED_KEY}", f"at {PLANTED_KEY}"
    )
    try:
        with caplog.at_level(logging.DEBUG, logger="alvin_integration"):
            emitter.emit(event)  # answered 400 with our headers echoed: dead letter + a log line
            emitter.emit(task_event(2, details={"password": "planted-conn-password-77"}))  # 500, then 200
            emitter.emit(task_event(3))  # 401 with headers echoed: "API key rejected"
            emitter.flush(5)
    finally:
        emitter.close()

    assert any("rejected event" in r.getMessage() for r in caplog.records)
    assert any("API key rejected" in r.getMessage() for r in caplog.records)
    places = {"logs": caplog.text, **_spool_files(spool_dir)}
    for request in fault_server.requests:
        places[f"request body {request['key']}"] = bytes(request["body"]).decode()
    assert len(places) > 4
    for where, text in places.items():
        for secret in PLANTED:
            assert secret not in text, f"{secret} leaked into {where}"
    # The key does travel where it must: in the X-API-KEY header, and nowhere else.
    assert all(r["headers"]["x-api-key"] == PLANTED_KEY for r in fault_server.requests)


# Secrets in shapes the text patterns once missed, each with the words that must not leave: a token
# as a URL's user, a quoted password cut off before its closing quote, a PEM private key inside
# JSON text (its newlines escaped once, or twice as in JSON in JSON).
PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANplantedPEMline31\nplantedPEMline32AB+/==\n"
    "-----END PRIVATE KEY-----\n"
)
SHAPES: Dict[str, Tuple[str, List[str]]] = {
    "git url token": (
        "git clone https://ghp_plantedUrlToken21xyz@github.com/org/repo.git",
        ["ghp_plantedUrlToken21xyz"],
    ),
    "registry url token": (
        "pip install --index-url https://plantedRegistryToken22@pypi.example.com/simple/ x",
        ["plantedRegistryToken22"],
    ),
    "sql password cut off": (
        "SELECT 1;\nALTER ROLE etl PASSWORD 'plantedCutPassword23",
        ["plantedCutPassword23"],
    ),
    "sql identified by cut off": (
        'ALTER USER etl IDENTIFIED BY "plantedCut24 plantedTail25',
        ["plantedCut24", "plantedTail25"],
    ),
    "pem in json": (
        json.dumps({"type": "service_account", "key": PEM}),
        ["plantedPEMline31", "plantedPEMline32"],
    ),
    "pem in json in json, no end line": (
        json.dumps(json.dumps({"key": PEM.replace("-----END PRIVATE KEY-----\n", "")})),
        ["plantedPEMline31", "plantedPEMline32"],
    ),
}


def _planted_event(index: int, text: str) -> RunEvent:
    """A task event with ``text`` in a facet, the SQL and the error message."""
    event = task_event(index, details={"note": text, "nested": [{"cmd": f"run: {text}"}]})
    event.job.facets["sql"] = SQLJobFacet(text)
    event.run.facets["errorMessage"] = ErrorMessageRunFacet(f"failed: {text}", f"Traceback:\n  {text}\n")
    return event


def _spool_files(directory: str) -> Dict[str, str]:
    found = {}
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                found[os.path.join(root, name)] = Path(root, name).read_bytes().decode("utf-8", "replace")
            except FileNotFoundError:  # a temporary file renamed meanwhile
                continue
    return found


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_secrets_of_every_shape_never_reach_the_spool_a_body_or_the_dead_letter_file(
    shape: str, fault_server: FaultServer, spool_dir: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text, secrets = SHAPES[shape]
    offline_dir = str(tmp_path / "offline")
    offline = Emitter(settings_for(refused_url(), offline_dir))  # the API unreachable: spooled, kept
    try:
        offline.emit(_planted_event(1, text))
    finally:
        offline.close(timeout=1)
    fault_server.queue("echo:400", "ok")  # rejected with the body echoed (a dead letter), accepted
    settings = settings_for(fault_server.url, spool_dir)
    emitter = Emitter(
        settings,
        client=AlvinClient(settings, RetryPolicy(base_delay=0.01, window=2)),
        breaker=CircuitBreaker(base=0.05, cap=0.1),
        window=1,
    )
    try:
        with caplog.at_level(logging.DEBUG, logger="alvin_integration"):
            emitter.emit(_planted_event(2, text))
            emitter.emit(_planted_event(3, text))
            assert emitter.flush(5)
    finally:
        emitter.close()

    places = {"logs": caplog.text, **_spool_files(offline_dir), **_spool_files(spool_dir)}
    for request in fault_server.requests:
        places[f"request body {request['key']}"] = bytes(request["body"]).decode()
    assert any(where.endswith(".seg") for where in places), "nothing was spooled"
    assert any(where.endswith("dead-letter.jsonl") for where in places), "nothing was dead-lettered"
    assert len(fault_server.requests) == 2
    for where, content in places.items():
        if where.endswith((".seg", "dead-letter.jsonl")) or where.startswith("request body"):
            assert MASK in content, f"nothing masked in {where}"  # the event is there, masked
        for secret in secrets:
            assert secret not in content, f"{secret} leaked into {where}"
