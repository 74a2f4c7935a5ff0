"""DAG definitions: sent once per structure, in pages, through the spool, masked, shared by processes."""

from __future__ import annotations

import errno
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from alvin_integration.emitter import Emitter
from alvin_integration.metadata_sync import HashLedger, pages, structure_hash, sync_entities
from alvin_integration.mock_backend.server import MockAlvinServer
from alvin_integration.model import MetadataBatch
from alvin_integration.spool import SpoolWriteError
from tests.support.events import API_KEY, settings_for
from tests.support.processes import REPO, alvin_env, python_process


def dag(name: str, tasks: int = 2, **extra: Any) -> Dict[str, Any]:
    entity: Dict[str, Any] = {
        "type": "DAG",
        "name": name,
        "tasks": [
            {"task_id": f"t{i}", "upstream_task_ids": [f"t{i - 1}"] if i else []} for i in range(tasks)
        ],
    }
    entity.update(extra)
    return entity


class Collector:
    """An ``emit`` that keeps the batches (or refuses them, as the spool on a full disk does)."""

    def __init__(self, refuse: bool = False) -> None:
        self.batches: List[MetadataBatch] = []
        self.refuse = refuse

    def __call__(self, batch: MetadataBatch) -> str:
        if self.refuse:
            raise SpoolWriteError(errno.ENOSPC, "the spool could not store an event: No space left on device")
        self.batches.append(batch)
        return batch.event_id


def test_the_structure_hash_ignores_key_order_and_sees_every_change() -> None:
    assert structure_hash({"name": "a", "tasks": [1]}) == structure_hash({"tasks": [1], "name": "a"})
    assert structure_hash(dag("a")) != structure_hash(dag("a", tasks=3))
    assert structure_hash(dag("a")) != structure_hash(dag("a", schedule="0 0 * * *"))


def test_pages_hold_at_most_n_entities_and_about_max_bytes() -> None:
    entities = [dag(f"d{i}") for i in range(250)]
    assert [len(p) for p in pages(entities, max_entities=100)] == [100, 100, 50]
    big = [dag(f"d{i}", description="x" * 4000) for i in range(10)]
    by_size = list(pages(big, max_entities=100, max_bytes=10_000))
    assert [len(p) for p in by_size] == [2] * 5
    assert [e for p in by_size for e in p] == big
    assert [len(p) for p in pages([dag("huge", description="x" * 50_000)], max_bytes=1000)] == [1]


def test_only_changed_definitions_are_resent(tmp_path: Any) -> None:
    ledger, emit = HashLedger(str(tmp_path)), Collector()
    first = sync_entities([dag("a"), dag("b")], ledger, emit, "p", "2.11.2")
    assert (first.sent, first.pages, first.unchanged) == (2, 1, 0)
    again = sync_entities([dag("a"), dag("b")], ledger, emit, "p", "2.11.2")
    assert (again.sent, again.unchanged) == (0, 2)
    changed = sync_entities([dag("a", tasks=5), dag("b")], ledger, emit, "p", "2.11.2")
    assert (changed.sent, changed.unchanged) == (1, 1)
    assert [e["name"] for e in emit.batches[-1].entities] == ["a"]
    forced = sync_entities([dag("a", tasks=5), dag("b")], ledger, emit, "p", "2.11.2", force=True)
    assert forced.sent == 2
    payload = emit.batches[0].to_dict()
    assert payload["alvin_platform_id"] == "p"
    assert payload["facets"] == {"airflow_version": "2.11.2", "platform_type": "AIRFLOW"}


def test_the_same_definitions_make_the_same_pages_in_any_order(tmp_path: Any) -> None:
    one, other = Collector(), Collector()
    sync_entities([dag("b"), dag("a"), dag("c")], HashLedger(str(tmp_path / "1")), one, "p", "3", page_size=2)
    sync_entities(
        [dag("c"), dag("b"), dag("a")], HashLedger(str(tmp_path / "2")), other, "p", "3", page_size=2
    )
    assert [b.event_id for b in one.batches] == [b.event_id for b in other.batches]
    assert [e["name"] for b in one.batches for e in b.entities] == ["a", "b", "c"]


def test_a_large_set_goes_in_pages(tmp_path: Any) -> None:
    emit = Collector()
    result = sync_entities(
        [dag(f"d{i}") for i in range(7)], HashLedger(str(tmp_path)), emit, "p", "3", page_size=3
    )
    assert (result.sent, result.pages) == (7, 3)
    assert [len(b.entities) for b in emit.batches] == [3, 3, 1]
    assert len({b.event_id for b in emit.batches}) == 3


def test_what_could_not_be_spooled_is_tried_again_next_time(tmp_path: Any) -> None:
    ledger = HashLedger(str(tmp_path))
    refused = sync_entities([dag("a"), dag("b")], ledger, Collector(refuse=True), "p", "2")
    assert (refused.sent, refused.unsent) == (0, 2)
    assert "No space left on device" in refused.error
    assert ledger.read() == {}
    assert sync_entities([dag("a"), dag("b")], ledger, Collector(), "p", "2").sent == 2


def test_an_unreadable_ledger_means_resend_not_crash(tmp_path: Any) -> None:
    ledger = HashLedger(str(tmp_path))
    (tmp_path / "metadata-hashes.json").write_text("{not json")
    assert ledger.read() == {}
    assert sync_entities([dag("a")], ledger, Collector(), "p", "2").sent == 1
    assert json.loads((tmp_path / "metadata-hashes.json").read_text()) == {"a": structure_hash(dag("a"))}


def test_processes_recording_at_once_lose_no_hash(tmp_path: Any) -> None:
    code = f"""
        import os, sys
        sys.path.insert(0, {REPO!r})
        from alvin_integration.metadata_sync import HashLedger
        ledger = HashLedger({str(tmp_path)!r})
        for i in range(50):
            ledger.record({{"%d-%d" % (os.getpid(), i): "h"}})
    """
    procs = [python_process(code, {"PATH": "/usr/bin:/bin"}) for _ in range(4)]
    for proc in procs:
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    assert len(HashLedger(str(tmp_path)).read()) == 200


def test_definitions_reach_the_metadata_endpoint_masked(
    mock_backend: MockAlvinServer, spool_dir: str
) -> None:
    settings = settings_for(mock_backend.url, spool_dir)
    emitter = Emitter(settings)
    try:
        planted = dag("a", description=f"uses key {API_KEY}", params={"password": "hunter2-secret"})
        result = sync_entities([planted], HashLedger(spool_dir), emitter.emit, "testplatform", "2.11.2")
        assert result.sent == 1 and emitter.flush(30)
    finally:
        emitter.close(timeout=1)
    stored = mock_backend.store.metadata()
    assert len(stored) == 1
    text = json.dumps(stored)
    assert API_KEY not in text and "hunter2-secret" not in text
    assert stored[0]["entities"][0]["tasks"] == planted["tasks"]


def test_a_link_planted_where_the_hash_ledger_lives_is_neither_read_nor_written_through(
    tmp_path: Path,
) -> None:
    spool, elsewhere = tmp_path / "spool", tmp_path / "elsewhere"
    spool.mkdir(mode=0o700)
    elsewhere.mkdir()
    planted = elsewhere / "hashes.json"
    planted.write_text(json.dumps({"a": structure_hash(dag("a"))}))
    (spool / "metadata-hashes.json").symlink_to(planted)
    (spool / "metadata-hashes.json.lock").symlink_to(elsewhere / "made-through-the-lock")
    ledger = HashLedger(str(spool))
    assert ledger.read() == {}  # not read through: "a" is not taken as sent
    assert sync_entities([dag("a"), dag("b")], ledger, Collector(), "p", "2").sent == 2
    assert json.loads(planted.read_text()) == {"a": structure_hash(dag("a"))}  # not written through
    assert sorted(p.name for p in elsewhere.iterdir()) == ["hashes.json"]  # nothing made there
    assert not (spool / "metadata-hashes.json").is_symlink()
    assert ledger.read() == {"a": structure_hash(dag("a")), "b": structure_hash(dag("b"))}


def test_sync_metadata_on_a_full_disk_says_what_was_not_spooled_and_exits_1(tmp_path: Path) -> None:
    # Airflow stood in for: sync-metadata's own path (settings, emitter, spool, ledger) is real.
    # RLIMIT_FSIZE makes writes past 20 KB fail (short write, then EFBIG), as on a full disk.
    code = f"""
import resource, sys, types
sys.path.insert(0, {REPO!r})
sys.modules["airflow"] = types.SimpleNamespace(__version__="2.11.2")
from alvin_integration import cli
from alvin_integration.producers.airflow import compat
def task(i):
    return types.SimpleNamespace(task_id=f"t{{i}}", task_type="BashOperator", owner="x" * 200)
dags = [types.SimpleNamespace(dag_id=f"d{{n:03d}}", tasks=[task(i) for i in range(20)]) for n in range(150)]
compat.parse_dags = lambda folder: (dags, [])
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
sys.exit(cli.main(["sync-metadata", "--timeout", "1"]))
"""
    env = alvin_env("http://127.0.0.1:9", str(tmp_path / "spool"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1
    assert "150 DAG(s): 0 definition(s) spooled" in result.stdout
    said = [line for line in result.stderr.splitlines() if "not spooled" in line]
    assert len(said) == 1, result.stderr
    assert said[0].startswith("150 definition(s) not spooled (the spool could not store an event")
    assert said[0].endswith("); the next sync-metadata sends them")


def test_a_ledger_that_cannot_be_written_costs_a_resend_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "metadata-hashes.json.lock").mkdir()  # no lock file can be had there
    ledger = HashLedger(str(tmp_path))
    assert sync_entities([dag("a")], ledger, Collector(), "p", "2").sent == 1
    assert ledger.read() == {}  # not recorded: the next sync sends it again
