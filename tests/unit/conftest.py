"""Fixtures of the unit tests: the emitters a test made are closed after it."""

from __future__ import annotations

from typing import Iterator, List

import pytest

from alvin_integration.emitter import Emitter


@pytest.fixture
def emitters() -> Iterator[List[Emitter]]:
    """The emitters a test made; each is closed after it."""
    made: List[Emitter] = []
    yield made
    for item in made:
        item.close(timeout=1)
