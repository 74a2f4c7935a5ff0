"""Once per machine: a transition one process reported is not reported by the machine's others."""

from __future__ import annotations

import os
import time
from pathlib import Path

from alvin_integration import machine_once as once
from alvin_integration.machine_once import MachineOnce
from alvin_integration.spool_dir import REPORTED
from tests.support.skips import needs_fork


def test_a_key_is_first_once_until_it_is_forgotten(tmp_path: Path) -> None:
    markers = MachineOnce(str(tmp_path))
    assert markers.first("dagrun|d|r|START")
    assert not markers.first("dagrun|d|r|START")
    assert markers.first("dagrun|d|other|START")
    markers.forget("dagrun|d|r|START")
    assert markers.first("dagrun|d|r|START")


@needs_fork
def test_another_process_of_the_machine_sees_what_one_marked(tmp_path: Path) -> None:
    assert MachineOnce(str(tmp_path)).first("dagrun|d|r|START")
    pid = os.fork()
    if pid == 0:  # a new DAG-processor process, as 1.10 forks one per DAG file
        os._exit(0 if not MachineOnce(str(tmp_path)).first("dagrun|d|r|START") else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_where_no_marker_can_be_made_it_reports_again(tmp_path: Path) -> None:
    (tmp_path / REPORTED).write_text("a file where the directory should be")
    markers = MachineOnce(str(tmp_path))
    assert markers.first("k") and markers.first("k")  # twice is harmless (same event id), never is not


def test_old_markers_are_removed_when_the_directory_is_looked_over(tmp_path: Path) -> None:
    markers = MachineOnce(str(tmp_path))
    assert markers.first("old") and markers.first("recent")
    long_ago = time.time() - once.MAX_AGE_SECONDS - 60
    os.utime(markers._path("old"), (long_ago, long_ago))
    assert markers.first("another")  # looked over within the hour: nothing removed yet
    assert not markers.first("old")
    os.unlink(os.path.join(markers.directory, ".looked-over"))
    assert markers.first("one more")  # looked over now
    assert markers.first("old") and not markers.first("recent")
