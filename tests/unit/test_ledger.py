"""The ledger of confirmed event ids and what reconcile reads beside it: the spool's waiting ids."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import List

import pytest

from alvin_integration.cli import parse_span
from alvin_integration.emitter import Emitter
from alvin_integration.ledger import DeliveredLedger
from alvin_integration.mock_backend.server import MockAlvinServer
from alvin_integration.model import COMPLETE, START
from alvin_integration.spool import Record, Spool
from tests.support.emitters import make_emitter
from tests.support.events import task_event


def test_a_delivered_event_is_in_the_ledger_and_a_waiting_one_in_the_spool(
    mock_backend: MockAlvinServer,
    spool_dir: str,
    emitters: List[Emitter],
) -> None:
    emitter = make_emitter(mock_backend.url, spool_dir)
    emitters.append(emitter)
    ids = [emitter.emit(task_event(i, kind)) for i in range(5) for kind in (START, COMPLETE)]
    assert emitter.flush(30)
    assert DeliveredLedger(spool_dir).ids() >= set(ids)
    assert Spool(spool_dir, 1 << 20).pending_ids() == set()


def test_the_spool_names_what_waits(spool_dir: str) -> None:
    spool = Spool(spool_dir, 1 << 20)
    spool.append(Record("id-1", "/api/v1/lineage", b"{}"))
    spool.append(Record("id-2", "/api/v1/lineage", b"{}"))
    assert Spool(spool_dir, 1 << 20).pending_ids() == {"id-1", "id-2"}
    spool.close()


def test_the_ledger_is_bounded_and_keeps_the_rotated_file(tmp_path: Path) -> None:
    ledger = DeliveredLedger(str(tmp_path), max_bytes=100)
    ids = [f"{i:036d}" for i in range(10)]  # 37 bytes a line: rotated every third
    for event_id in ids:
        ledger.record(event_id)
    assert os.path.getsize(ledger.path + ".1") <= 100 + 37
    assert os.path.getsize(ledger.path) <= 100 + 37
    assert ledger.ids() >= set(ids[-2:])  # the newest survive; the oldest may go (a resend, not a loss)


def test_a_ledger_that_cannot_be_written_never_raises(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    DeliveredLedger(str(blocked)).record("id-1")
    assert DeliveredLedger(str(blocked)).ids() == set()


@pytest.mark.parametrize(
    ("text", "seconds"), [("24h", 86400), ("90m", 5400), ("7d", 604800), ("30", 30), ("1.5h", 5400)]
)
def test_spans_read_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_span(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "h", "24 hours", "-1h", "1w"])
def test_a_bad_span_says_how_to_write_it(text: str) -> None:
    with pytest.raises(ValueError, match="90m, 24h or 7d"):
        parse_span(text)
