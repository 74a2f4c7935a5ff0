"""The explorer's HTML: the runs page and an event's page rendered here, the lineage page's shell.

Every value shown comes from a client's event and goes through ``html.escape`` (the lineage page's
script sets ``textContent`` only). The pages load nothing from the internet: one stylesheet and one
script, both served from this package (``static/``).
"""

from __future__ import annotations

import html
import json
import os
import re
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

STATIC_DIR = os.path.join(os.path.dirname(__file__), "static")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def static_file(name: str) -> Optional[bytes]:
    """A file of the explorer's ``static/`` folder by its bare name, None for any other name."""
    if not re.fullmatch(r"[a-z]+\.(css|js)", name):
        return None
    path = os.path.join(STATIC_DIR, name)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as handle:
        return handle.read()


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def state_badge(state: Any) -> str:
    """A state as a coloured label (the class is derived, the text escaped)."""
    if not state:
        return '<span class="state">-</span>'
    css = re.sub(r"[^a-z_]", "", str(state).lower())
    return f'<span class="state s-{css}">{_e(state)}</span>'


def duration_text(seconds: Any) -> str:
    """``0.42 s``, ``12.0 s``, ``3 min 4 s``, ``2 h 5 min``."""
    if not isinstance(seconds, (int, float)):
        return "-"
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    return f"{minutes // 60} h {minutes % 60} min"


def time_text(value: Any) -> str:
    """An ISO time to the second, as sent (no time zone conversion)."""
    if not value:
        return "-"
    text = str(value)
    return text[:19].replace("T", " ") if re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text) else text


def _shell(title: str, current: str, body: str, event_count: int, script: bool = False) -> str:
    links = [("/", "Runs"), ("/lineage", "Lineage")]
    nav = " ".join(
        f'<a href="{href}"{" aria-current=page" if href == current else ""}>{name}</a>'
        for href, name in links
    )
    tail = '<script src="/static/explorer.js" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · Alvin mock API</title>"
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="/static/explorer.css">'
        f"{tail}</head><body><header><strong>Alvin mock API</strong><nav>{nav}</nav>"
        f'<span class="count">{event_count} events stored</span></header><main>{body}</main></body></html>'
    )


def _event_links(events: List[Dict[str, Any]]) -> str:
    return " ".join(f'<a href="/events/{int(e["id"])}">{_e(e["type"])}</a>' for e in events)


def _options(name: str, label: str, values: List[str], chosen: Optional[str]) -> str:
    options = ['<option value="">all</option>']
    for value in values:
        selected = " selected" if value == chosen else ""
        options.append(f'<option value="{_e(value)}"{selected}>{_e(value)}</option>')
    return f'<label>{label} <select name="{name}">{"".join(options)}</select></label>'


def render_runs(data: Dict[str, Any], event_count: int, dag_id: Optional[str], state: Optional[str]) -> str:
    """The runs page (``/``) from the runs JSON: DAG runs with their task tries."""
    parts = [
        '<form class="filters" method="get" action="/">',
        _options("dag_id", "DAG", [d["dag_id"] for d in data["dags"]], dag_id),
        _options("state", "State", data["states"], state),
        '<button type="submit">Filter</button>',
        f'<a href="/api/v1/explorer/runs?{_e(urlencode(_query(dag_id, state)))}">as JSON</a></form>',
    ]
    total, offset, limit = data["total"], data["offset"], data["limit"]
    shown = len(data["dag_runs"])
    pager = [f"{total} DAG runs" + (f", {offset + 1} to {offset + shown} shown" if shown < total else "")]
    if offset > 0:
        back = urlencode(_query(dag_id, state, max(0, offset - limit), limit))
        pager.append(f'<a href="/?{_e(back)}" rel="prev">newer</a>')
    if offset + shown < total:
        more = urlencode(_query(dag_id, state, offset + limit, limit))
        pager.append(f'<a href="/?{_e(more)}" rel="next">older</a>')
    parts.append(f'<p class="pager">{" · ".join(pager)}</p>')
    if not data["dag_runs"]:
        parts.append('<p class="empty">No runs yet: point ALVIN_URL here and run a DAG.</p>')
    for dag_run in data["dag_runs"]:
        parts.append(_dag_run_section(dag_run))
    return _shell("Runs", "/", "".join(parts), event_count)


def _query(
    dag_id: Optional[str], state: Optional[str], offset: int = 0, limit: Optional[int] = None
) -> Dict[str, Any]:
    query: Dict[str, Any] = {k: v for k, v in (("dag_id", dag_id), ("state", state)) if v}
    if offset:
        query["offset"] = offset
    if limit is not None:
        query["limit"] = limit
    return query


def _dag_run_section(dag_run: Dict[str, Any]) -> str:
    own = _event_links(dag_run["events"]) or "none received"
    json_link = ""
    if dag_run["run_uuid"]:
        json_link = f' · <a href="/api/v1/events?{_e(urlencode({"run_id": dag_run["run_uuid"]}))}">JSON</a>'
    derived = "" if dag_run["state_reported"] else ' <span class="note">(from its tries)</span>'
    error = f'<p class="error">{_e(dag_run["error"])}</p>' if dag_run["error"] else ""
    rows = []
    for t in dag_run["tries"]:
        retry = "yes" if t["retried"] else "no"
        rows.append(
            f'<tr class="try" data-task="{_e(t["task_id"])}" data-try="{_e(t["try_number"])}">'
            f'<td title="{_e(t["job"])}">{_e(t["task_id"])}</td><td>{_e(t["try_number"] or "-")}</td>'
            f"<td>{state_badge(t['state'])}</td><td>{_e(time_text(t['start']))}</td>"
            f"<td>{_e(duration_text(t['duration']))}</td>"
            f'<td class="error">{_e(t["error"] or "")}</td><td class="retry">{retry}</td>'
            f"<td>{_event_links(t['events'])}</td></tr>"
        )
    header = "".join(
        f"<th>{h}</th>"
        for h in ("task", "try", "state", "start", "duration", "error", "retry followed", "events")
    )
    dag_id, run_id = _e(dag_run["dag_id"]), _e(dag_run["run_id"])
    started, took = _e(time_text(dag_run["start"])), _e(duration_text(dag_run["duration"]))
    return (
        f'<section class="dag-run" data-dag-id="{dag_id}" data-run-id="{run_id}">'
        f'<h2><span class="dag">{dag_id}</span> <span class="run">{run_id}</span> '
        f"{state_badge(dag_run['state'])}{derived}</h2>"
        f'<p class="meta">started {started} · took {took} · DAG run events: {own}{json_link}</p>{error}'
        f'<table class="tries"><thead><tr>{header}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def render_lineage(event_count: int) -> str:
    """The lineage page's shell; its script draws the graph from ``/api/v1/explorer/graph``."""
    body = (
        '<form class="filters" id="graph-filters"><label>DAG <select name="dag_id" id="dag-filter">'
        '<option value="">all</option></select></label>'
        '<span class="zoom"><button type="button" data-zoom="0.8">&minus;</button>'
        '<button type="button" data-zoom="1.25">+</button>'
        '<button type="button" data-zoom="fit">fit</button></span>'
        '<a href="/api/v1/explorer/graph">as JSON</a> '
        '<span id="graph-status" role="status">loading…</span></form>'
        '<div class="lineage"><div id="graph-wrap"><svg id="graph" xmlns="http://www.w3.org/2000/svg" '
        'role="img" aria-label="lineage graph"></svg></div>'
        '<aside id="details"><p class="hint">Click a job or a dataset.</p></aside></div>'
        '<p class="legend">Inputs → job → outputs, left to right. A node\'s colour is the state of its '
        "last run; a dataset's second line is its namespace.</p>"
    )
    return _shell("Lineage", "/lineage", body, event_count, script=True)


def _highlight_masks(text: str) -> str:
    return html.escape(text).replace("***", "<mark>***</mark>")


def render_event(view: Dict[str, Any], event_count: int) -> str:
    """An event's page (``/events/<id>``) from its JSON view."""
    event = view["event"] if isinstance(view["event"], dict) else {}
    job, run = event.get("job"), event.get("run")
    job = job if isinstance(job, dict) else {}
    run = run if isinstance(run, dict) else {}
    facts = [
        ("event", f"#{view['id']} · {event.get('eventType', '-')}"),
        ("job", f"{job.get('namespace', '-')} / {job.get('name', '-')}"),
        ("run id", run.get("runId", "-")),
        ("event time", event.get("eventTime", "-")),
        ("idempotency key", view["idempotency_key"]),
    ]
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    if view["problems"]:
        items = "".join(f"<li>{_e(p)}</li>" for p in view["problems"])
        checks = f'<p class="bad">Fails the mock API\'s checks:</p><ul>{items}</ul>'
    else:
        checks = (
            '<p class="good">Passes the mock API\'s checks '
            "(required fields, event type, time, run id, job).</p>"
        )
    if view["masked"]:
        items = "".join(
            f"<li><code>{_e(m['path'])}</code> ({_e(m['count'])} times)</li>" for m in view["masked"]
        )
        masked = f"<p>Redaction put <mark>***</mark> in place of a secret at:</p><ul>{items}</ul>"
    else:
        masked = "<p>Nothing masked: no value held <code>***</code>.</p>"
    if view["event"] is not None:
        pretty = json.dumps(view["event"], indent=2, ensure_ascii=False)
    else:
        pretty = view["raw"]
    body = (
        f"<h1>Event {_e(view['id'])}</h1><table class='facts'>{rows}</table>"
        f"<h2>Validation</h2>{checks}<h2>Redaction</h2>{masked}"
        f'<h2>As received</h2><p><a href="/api/v1/events/{int(view["id"])}">JSON</a></p>'
        f'<pre class="event">{_highlight_masks(pretty)}</pre>'
    )
    return _shell(f"Event {view['id']}", "", body, event_count)
