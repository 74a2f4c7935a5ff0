"""Headless Chromium for the explorer's tests, script and benchmark: the system's, never a download.

Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it when missing) driven by
Playwright's Python package through `executable_path`, so Playwright's own browser download is never
needed (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 in tox).
"""

from __future__ import annotations

import os
import shutil
from typing import Any, Optional

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> Optional[str]:
    """$CHROMIUM if set, else the first Chromium on PATH."""
    given = os.environ.get("CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def launch(playwright: Any, executable: str) -> Any:
    """A headless Chromium of this machine (no sandbox: CI runs as root in a container)."""
    return playwright.chromium.launch(
        executable_path=executable, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
