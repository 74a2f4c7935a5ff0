"""doctor against hostile settings and APIs (the refused values are in test_config)."""

from __future__ import annotations

from typing import Dict, List

import pytest

from alvin_integration.config import load_settings
from alvin_integration.doctor import run_doctor
from tests.support.fault_server import FaultServer
from tests.unit.test_config import NO_CFG, REQUIRED


def test_a_key_with_white_space_around_it_is_accepted_stripped() -> None:
    loaded = load_settings(dict(REQUIRED, ALVIN_API_KEY="  k3y-from-file-123\n"), config_path=NO_CFG)
    assert loaded.settings is not None and loaded.settings.api_key == "k3y-from-file-123"


def doctor(env: Dict[str, str]) -> List[str]:
    lines: List[str] = []
    run_doctor(env, timeout=2, out=lines.append)
    return lines


def test_doctor_warns_of_an_unencrypted_or_unverified_key(fault_server: FaultServer, spool_dir: str) -> None:
    env = dict(REQUIRED, ALVIN_URL=fault_server.url, ALVIN_SPOOL_DIR=spool_dir, ALVIN_VERIFY_SSL="false")
    lines = doctor(env)
    assert any(line.startswith("WARN settings") and "unencrypted" in line for line in lines)
    assert any(line.startswith("WARN settings") and "not checked" in line for line in lines)


def test_doctor_reports_a_redirect_with_where_to(fault_server: FaultServer, spool_dir: str) -> None:
    fault_server.default = "redirect:https://elsewhere.example/api"
    lines = doctor(dict(REQUIRED, ALVIN_URL=fault_server.url, ALVIN_SPOOL_DIR=spool_dir))
    assert any("redirect" in line and "https://elsewhere.example/api" in line for line in lines)
    assert not any("not found" in line for line in lines)


def test_doctor_turns_a_broken_check_into_one_line(spool_dir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import alvin_integration.doctor as doctor_module

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(doctor_module, "check_dns", broken)
    lines = doctor(dict(REQUIRED, ALVIN_SPOOL_DIR=spool_dir))
    assert any(line.startswith("FAIL dns") and "RuntimeError: boom" in line for line in lines)
    assert not any("Traceback" in line for line in lines)
