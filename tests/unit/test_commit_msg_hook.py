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


PRE_COMMIT = HOOK.parent / "pre-commit"


def _staged_repo(tmp_path: Path, source: str) -> Path:
    import os

    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    (repo / "module.py").write_text(source)
    subprocess.run(["git", "-C", str(repo), "add", "module.py"], check=True, env=env)
    return repo


@pytest.mark.parametrize(
    "source, passes",
    [('"""A module."""\n\nVALUE = 1\n', True), ("import os\nVALUE=1\n", False)],
)
def test_the_pre_commit_hook_runs_ruff_on_the_staged_files(tmp_path: Path, source: str, passes: bool) -> None:
    import os
    import shutil
    import sys

    if shutil.which("ruff", path=os.path.dirname(sys.executable)) is None:
        pytest.skip("ruff is not installed beside this Python (the dev extra brings it)")
    repo = _staged_repo(tmp_path, source)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
    result = subprocess.run(["bash", str(PRE_COMMIT)], cwd=repo, capture_output=True, text=True, env=env)
    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    if not passes:
        assert "ruff found problems in the staged files" in result.stderr
