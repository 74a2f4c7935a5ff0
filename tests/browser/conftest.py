"""A real headless Chromium for the explorer's tests; missing, it fails the run in CI.

Outside CI (no CI=true) a machine without Chromium or Playwright skips these tests with the reason
shown by `-ra`; in CI the same absence is a failure, so a broken install never passes silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, List

import pytest

from alvin_integration.mock_backend.server import MockAlvinServer, make_server, start_in_thread
from tests.support.browser import find_chromium, launch
from tests.support.explorer_data import example_run, hostile_event, send


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true: the browser tests must run here)", pytrace=False)
    pytest.skip(f"{what}; outside CI the browser tests are skipped")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright's Python package is not installed (tox -e browser installs it)")
    executable = find_chromium()
    if executable is None:
        _missing("no Chromium found (apt-get install -y chromium, or set CHROMIUM to its path)")
    with sync_playwright() as playwright:
        chromium = launch(playwright, str(executable))
        yield chromium
        chromium.close()


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[MockAlvinServer]:
    """A mock API with one run of the example DAG and a hostile event in its SQLite file."""
    server = make_server(db=str(tmp_path / "alvin.db"))
    start_in_thread(server)
    send(server.url, [*example_run(), hostile_event()])
    yield server
    server.shutdown()
    server.server_close()


class Page:
    """A browser page that records console errors, uncaught exceptions and dialogs (alert())."""

    def __init__(self, page: Any, base: str) -> None:
        self.page, self.base = page, base
        self.errors: List[str] = []
        self.dialogs: List[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, path: str) -> Any:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path
        return self.page


@pytest.fixture
def page(browser: Any, explorer: MockAlvinServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    recorded = Page(context.new_page(), explorer.url)
    yield recorded
    context.close()
    assert recorded.dialogs == [], f"an event's value ran as script: {recorded.dialogs}"
    assert recorded.errors == [], f"the page logged errors: {recorded.errors}"
