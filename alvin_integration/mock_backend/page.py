"""The mock API's HTML page: the runs it received with their states, inputs and outputs."""

from __future__ import annotations

import html
from typing import Any, Dict, List

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}"
    ".COMPLETE{color:#176f2c}.FAIL{color:#b3261e}.START,.RUNNING{color:#8a5a00}"
)


def render_runs(runs: List[Dict[str, Any]], event_count: int) -> str:
    """The whole page."""
    rows = []
    for run in reversed(runs):
        cells = [
            html.escape(str(run.get("job"))),
            '<span class="{0}">{0}</span>'.format(html.escape(str(run.get("last_event")))),
            html.escape(str(run.get("state") or "")),
            html.escape(str(run.get("last_time") or "")),
            html.escape(", ".join(run.get("inputs") or [])),
            html.escape(", ".join(run.get("outputs") or [])),
            f'<a href="/api/v1/events?run_id={html.escape(str(run.get("run_id")))}">{run.get("events")}</a>',
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(
        f"<th>{h}</th>" for h in ("job", "last event", "state", "time", "inputs", "outputs", "events")
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Alvin mock API</title>"
        f"<style>{_STYLE}</style></head><body><h1>Alvin mock API</h1>"
        f"<p>{len(runs)} runs, {event_count} events. JSON: <a href='/api/v1/events'>/api/v1/events</a></p>"
        f"<table><tr>{header}</tr>{''.join(rows)}</table></body></html>"
    )
