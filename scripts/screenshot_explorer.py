"""Writes docs/explorer-lineage.png, the README's picture of the explorer's lineage page.

Run from the repository root with Playwright installed (`make screenshot` uses tox's `browser`
env): a mock API in memory gets one run of the example DAG (tests/support/explorer_data.py), then
the system's headless Chromium opens /lineage and clicks the failed task.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alvin_integration.mock_backend.server import make_server, start_in_thread
from tests.support.browser import find_chromium, launch
from tests.support.explorer_data import example_run, send

OUT = Path(__file__).resolve().parents[1] / "docs" / "explorer-lineage.png"


def main() -> int:
    """Serve the example run, screenshot its lineage page, stop."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        print("no Chromium found: apt-get install -y chromium (or set CHROMIUM)", file=sys.stderr)
        return 1
    server = make_server()
    start_in_thread(server)
    try:
        send(server.url, example_run())
        with sync_playwright() as playwright:
            browser = launch(playwright, executable)
            page = browser.new_page(viewport={"width": 1280, "height": 620})
            page.goto(server.url + "/lineage")
            page.wait_for_selector("svg#graph[data-ready=true]")
            page.click('svg .node[data-name="alvin_example.fail"]')
            page.locator("#details tr.run").first.wait_for()
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
