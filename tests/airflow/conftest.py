"""Tests that run inside a tox environment with a real Airflow installed."""

from __future__ import annotations

import pytest

pytest.importorskip("airflow", reason="tests/airflow needs Airflow: run them through tox (make test)")
