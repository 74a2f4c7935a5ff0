"""Events and settings for tests."""

from __future__ import annotations

from typing import Dict, Optional

from alvin_integration.config import Settings, load_settings
from alvin_integration.model import (
    COMPLETE,
    AlvinRunFacet,
    Dataset,
    Job,
    JobTypeJobFacet,
    NominalTimeRunFacet,
    ParentRunFacet,
    Run,
    RunEvent,
    dag_run_run_id,
    task_run_id,
)

API_KEY = "test-api-key-0123456789"


def settings_for(url: str, spool_dir: str, **extra: str) -> Settings:
    """Valid settings pointing at ``url`` with the spool in ``spool_dir``."""
    env: Dict[str, str] = {
        "ALVIN_URL": url,
        "ALVIN_API_KEY": API_KEY,
        "ALVIN_PLATFORM_ID": "testplatform",
        "ALVIN_SPOOL_DIR": spool_dir,
        "ALVIN_HTTP_TIMEOUT": "2",
    }
    env.update(extra)
    loaded = load_settings(env, config_path="/nonexistent/airflow.cfg")
    assert loaded.settings is not None, loaded.problems
    return loaded.settings


def task_event(
    index: int = 0, event_type: str = COMPLETE, details: Optional[Dict[str, object]] = None
) -> RunEvent:
    """A task try event with the facets an adapter adds."""
    dag_id, task_id, run = "example_dag", f"task_{index}", "scheduled__2026-11-27T00:00:00+00:00"
    return RunEvent(
        event_type,
        Run(
            task_run_id(dag_id, task_id, run, 1),
            {
                "parent": ParentRunFacet(dag_run_run_id(dag_id, run), "testplatform", dag_id),
                "nominalTime": NominalTimeRunFacet("2026-11-27T00:00:00+00:00", "2026-11-28T00:00:00+00:00"),
                "alvin": AlvinRunFacet(
                    {"dag_id": dag_id, "task_id": task_id, "try_number": 1, **(details or {})}
                ),
            },
        ),
        Job("testplatform", f"{dag_id}.{task_id}", {"jobType": JobTypeJobFacet("TASK")}),
        inputs=[Dataset("postgres://db:5432", "public.source")],
        outputs=[Dataset("postgres://db:5432", "public.target")],
    )
