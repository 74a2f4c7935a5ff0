"""What Airflow shows of our plugin: the webserver's Plugins page answers, with our plugin on it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.airflow_home import fresh_home, row_env
from tests.support.fault_server import refused_url
from tests.support.skips import needs_flask_plugins_page

PAGE = """
from airflow.www.app import create_app

response = create_app(testing=True).test_client().get("/plugin")
print("STATUS", response.status_code)
print(response.get_data(as_text=True))
"""

pytestmark = needs_flask_plugins_page


def test_the_plugins_page_answers_with_our_plugin(migrated_home: str, tmp_path: Path) -> None:
    home = fresh_home(migrated_home, tmp_path / "home")
    # anonymous visitors are admins in this home only, so the page needs no login
    Path(home, "webserver_config.py").write_text('AUTH_ROLE_PUBLIC = "Admin"\n')
    env = row_env(home, refused_url(), AIRFLOW__WEBSERVER__CONFIG_FILE=str(Path(home, "webserver_config.py")))
    result = subprocess.run(
        [sys.executable, "-c", PAGE], env=env, cwd=home, capture_output=True, text=True, timeout=300
    )
    assert "STATUS 200" in result.stdout, (result.stdout[-2000:], result.stderr[-3000:])
    page = result.stdout.split("STATUS 200", 1)[1]
    assert "alvin_integration" in page
    assert "this has no impact" not in result.stdout + result.stderr  # none of our guards fired
