"""Recording what the adapters report, in-process: fake task instances and an emitter that keeps events."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, List

from alvin_integration.config import Settings

RUN = "manual__2026-11-01T00:00:00+00:00"


class RecordingEmitter:
    """Takes events as the real emitter does, and keeps them."""

    def __init__(self) -> None:
        self.settings = Settings(
            url="https://alvin.example.com",
            api_key="unit-key",
            platform_id="unitplatform",
            spool_dir="/nonexistent/alvin/spool",  # no test writes here; one that needs a spool replaces it
            flush_timeout=0.0,
        )
        self.events: List[Any] = []
        self.waits: List[str] = []  # where the report path waited for delivery (the fixture records)

    def publish_metrics(self) -> None:
        """The real emitter publishes its health here; nothing to publish."""

    def emit(self, event: Any) -> str:
        """Keep the event as the wire carries it."""
        self.events.append(event.to_dict())
        return str(event.event_id)


def fake_ti(state: str, try_number: int = 1, map_index: int = -1, task: Any = None, **attrs: Any) -> Any:
    """A task instance as the hooks read it (attributes only, no database); ``task`` or its ``attrs``."""
    if task is None:
        task = SimpleNamespace(**{"inlets": [], "outlets": [], "sql": None, **attrs})
    return SimpleNamespace(
        dag_id="unit_dag",
        task_id="unit_task",
        run_id=RUN,
        try_number=try_number,
        _try_number=try_number,
        state=state,
        map_index=map_index,
        max_tries=1,
        pool="default_pool",
        start_date=datetime(2026, 11, 1, 0, 5, tzinfo=timezone.utc),
        end_date=None,
        duration=None,
        execution_date=datetime(2026, 11, 1, tzinfo=timezone.utc),
        task=task,
    )
