"""The commit-msg hook that scripts/pre-commit.sh installs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

HOOK = Path(__file__).resolve().parents[2] / "scripts" / "commit-msg"


def run_hook(tmp_path: Path, message: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "COMMIT_EDITMSG"
    path.write_text(message)
    return subprocess.run(["bash", str(HOOK), str(path)], capture_output=True, text=True)


@pytest.mark.parametrize(
    "message",
    [
        "feat: report skipped tasks",
        "fix(spool): keep events when the API answers 401\n\nbody",
        "refactor!: drop Python 3.7",
        "# a comment git strips\ndocs: explain Composer overrides",
        "Merge branch 'main'",
    ],
)
def test_conventional_messages_pass(tmp_path: Path, message: str) -> None:
    assert run_hook(tmp_path, message).returncode == 0


@pytest.mark.parametrize("message", ["fixed stuff", "Feat: capital type", "feat:missing space", "wip", ""])
def test_other_messages_are_rejected_with_the_expected_form(tmp_path: Path, message: str) -> None:
    result = run_hook(tmp_path, message)
    assert result.returncode == 1
    assert (
        "not a conventional commit" in result.stderr and "<type>[(scope)][!]: <description>" in result.stderr
    )
