"""The mock API's checks of a received RunEvent: the fields the Alvin API relies on."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, List

from alvin_integration.model import EVENT_TYPES


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _is_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def run_event_problems(event: Any) -> List[str]:
    """Reasons a payload is not an acceptable OpenLineage RunEvent (empty when it is)."""
    if not isinstance(event, dict):
        return ["the body must be a JSON object"]
    problems = []
    for name in ("eventTime", "producer", "schemaURL", "run", "job"):
        if name not in event:
            problems.append(f"missing required field '{name}'")
    if "eventType" in event and event["eventType"] not in EVENT_TYPES:
        problems.append(f"eventType must be one of {', '.join(EVENT_TYPES)}")
    if "eventTime" in event and not _is_time(event["eventTime"]):
        problems.append("eventTime must be an ISO-8601 date-time")
    run, job = event.get("run"), event.get("job")
    if "run" in event and not (isinstance(run, dict) and _is_uuid(run.get("runId"))):
        problems.append("run.runId must be a UUID")
    if "job" in event and not (isinstance(job, dict) and job.get("namespace") and job.get("name")):
        problems.append("job.namespace and job.name are required")
    return problems


def metadata_problems(payload: Any) -> List[str]:
    """Reasons a metadata payload is not acceptable (empty when it is)."""
    if not isinstance(payload, dict):
        return ["the body must be a JSON object"]
    problems = []
    if not payload.get("alvin_platform_id"):
        problems.append("missing required field 'alvin_platform_id'")
    if not isinstance(payload.get("entities"), list):
        problems.append("'entities' must be a list")
    return problems
