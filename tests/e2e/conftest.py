"""End-to-end tests: real airflow CLI processes and a real mock-backend process."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow", reason="tests/e2e needs Airflow: run them through tox (make test)")
