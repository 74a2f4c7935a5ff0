"""The explorer's model: stored events folded into DAG runs with their task tries and a lineage graph.

Each stored event is read once (the fold keeps the last sequence number it saw), so a page over
10,000 events costs a sort and a slice, not a parse of every event. Every value here comes from a
client: the pages escape it, nothing here trusts its type.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime
from typing import Any, Deque, Dict, List, Optional, Set, Tuple

from alvin_integration.mock_backend.layout import layout
from alvin_integration.mock_backend.store import Store
from alvin_integration.mock_backend.validate import run_event_problems

MASK = "***"  # what alvin_integration.redact puts in place of a secret
MAX_RUNS_PAGE = 1_000
MAX_GRAPH_NODES = 2_000
RECENT_RUNS = 20
_END_TYPES = ("COMPLETE", "FAIL", "ABORT")
_STATE_OF_TYPE = {
    "START": "running",
    "RUNNING": "running",
    "COMPLETE": "success",
    "FAIL": "failed",
    "ABORT": "aborted",
}

DatasetKey = Tuple[str, str]


def _mapping(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _seconds_between(start: Optional[str], end: Optional[str]) -> Optional[float]:
    try:
        first = datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        last = datetime.fromisoformat(str(end).replace("Z", "+00:00"))
        return round((last - first).total_seconds(), 3)
    except (TypeError, ValueError):
        return None


def _datasets(items: Any) -> List[Tuple[DatasetKey, Dict[str, Any]]]:
    if not isinstance(items, list):
        return []
    found = []
    for item in items:
        if isinstance(item, dict) and _text(item.get("namespace")) and _text(item.get("name")):
            key = (str(item["namespace"]), str(item["name"]))
            found.append((key, _mapping(item.get("facets"))))
    return found


def masked_paths(value: Any, path: str = "") -> List[Dict[str, Any]]:
    """Where redaction masked something: the JSON path of each string holding ``***``."""
    found: List[Dict[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += masked_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += masked_paths(item, f"{path}[{index}]")
    elif isinstance(value, str) and MASK in value:
        found.append({"path": path, "count": value.count(MASK)})
    return found


class _Run:
    """What the events of one run say: its state, times, error and the events themselves."""

    def __init__(self) -> None:
        self.state: Optional[str] = None
        self.ended = False
        self.start: Optional[str] = None
        self.end: Optional[str] = None
        self.error: Optional[str] = None
        self.events: List[Dict[str, Any]] = []

    def apply(self, link: Dict[str, Any], state: Optional[str], details: Dict[str, Any], error: Any) -> None:
        """Fold one event in; a START arriving after the run's end does not reopen it."""
        ends = link["type"] in _END_TYPES
        self.events.append(link)
        if state and (ends or not self.ended):
            self.state = state
        self.ended = self.ended or ends
        self.start = _text(details.get("start_date")) or self.start or link["time"]
        if ends:
            self.end = _text(details.get("end_date")) or link["time"]
        self.error = error or self.error


class _Try(_Run):
    """One run of a job (a task try, or any OpenLineage run), as its events told it."""

    def __init__(self, run_uuid: str, job: DatasetKey) -> None:
        super().__init__()
        self.run_uuid = run_uuid
        self.job = job
        self.dag_id = job[1]
        self.dag_run_id = run_uuid
        self.task_id = job[1]
        self.try_number: Optional[int] = None
        self.duration: Optional[float] = None
        self.last_seq = 0

    def as_dict(self, retried: bool) -> Dict[str, Any]:
        duration = self.duration if self.duration is not None else _seconds_between(self.start, self.end)
        return {
            "job": self.job[1],
            "namespace": self.job[0],
            "task_id": self.task_id,
            "try_number": self.try_number,
            "state": self.state,
            "start": self.start,
            "end": self.end,
            "duration": duration,
            "error": self.error,
            "retried": retried,
            "run_uuid": self.run_uuid,
            "events": list(self.events),
        }


class _DagRun(_Run):
    """One DAG run: its own events (where Airflow reported them) and its task tries."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__()
        self.dag_id = dag_id
        self.run_id = run_id
        self.run_uuid: Optional[str] = None
        self.tries: List[str] = []
        self.last_seq = 0


class _Node:
    """A job or a dataset of the lineage graph."""

    def __init__(self, node_id: str, kind: str, key: DatasetKey) -> None:
        self.id = node_id
        self.kind = kind
        self.key = key
        self.inputs: Set[DatasetKey] = set()  # a job's
        self.outputs: Set[DatasetKey] = set()
        self.readers: Set[DatasetKey] = set()  # a dataset's
        self.writers: Set[DatasetKey] = set()
        self.runs: Deque[str] = deque(maxlen=RECENT_RUNS)
        self.last_run: Optional[str] = None
        self.column_lineage: Dict[str, Any] = {}
        self.dag_ids: Set[str] = set()
        self.last_seq = 0


class Explorer:
    """The fold of one store's events; every query first reads what arrived since the last one."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._seen = 0
        self._tries: Dict[str, _Try] = {}
        self._dag_runs: Dict[Tuple[str, str], _DagRun] = {}
        self._jobs: Dict[DatasetKey, _Node] = {}
        self._datasets: Dict[DatasetKey, _Node] = {}
        self._nodes: Dict[str, _Node] = {}

    # -- folding ---------------------------------------------------------------------------------

    def _refresh(self) -> None:
        while True:
            rows = self._store.rows_after(self._seen)
            if not rows:
                return
            for row in rows:
                self._seen = int(row["seq"])
                try:
                    event = json.loads(row["body"])
                except ValueError:
                    continue  # stored as received; the event page shows it as text
                if isinstance(event, dict):
                    try:
                        self._fold(self._seen, event)
                    except Exception:  # one odd event must not hide the others
                        continue

    def _node(self, kind: str, key: DatasetKey) -> _Node:
        table = self._jobs if kind == "job" else self._datasets
        node = table.get(key)
        if node is None:
            node = _Node(f"{kind[0]}{len(self._nodes)}", kind, key)
            table[key] = node
            self._nodes[node.id] = node
        return node

    def _fold(self, seq: int, event: Dict[str, Any]) -> None:
        run, job = _mapping(event.get("run")), _mapping(event.get("job"))
        facets = _mapping(run.get("facets"))
        details, parent = _mapping(facets.get("alvin")), _mapping(facets.get("parent"))
        job_key = (str(_text(job.get("namespace")) or ""), str(_text(job.get("name")) or "(no name)"))
        run_uuid = str(_text(run.get("runId")) or f"(no run id {seq})")
        event_type = str(_text(event.get("eventType")) or "OTHER")
        event_time = _text(event.get("eventTime"))
        state = _text(details.get("state")) or _STATE_OF_TYPE.get(event_type)
        error = _text(_mapping(facets.get("errorMessage")).get("message"))
        link = {"id": seq, "type": event_type, "time": event_time}
        job_type = _text(_mapping(_mapping(job.get("facets")).get("jobType")).get("jobType"))
        parent_job, parent_run = _mapping(parent.get("job")), _mapping(parent.get("run"))
        dag_id = _text(details.get("dag_id")) or _text(parent_job.get("name"))
        dag_run_id = _text(details.get("run_id")) or _text(parent_run.get("runId"))

        if job_type == "DAG" or (not parent and details.get("task_id") is None and dag_id == job_key[1]):
            dag_run = self._dag_run(dag_id or job_key[1], dag_run_id or run_uuid, seq)
            dag_run.run_uuid = run_uuid
            dag_run.apply(link, state, details, error)
            return

        task_try = self._tries.get(run_uuid)
        if task_try is None:
            task_try = self._tries[run_uuid] = _Try(run_uuid, job_key)
            task_try.dag_id = dag_id or job_key[1]
            task_try.dag_run_id = dag_run_id or run_uuid
            self._dag_run(task_try.dag_id, task_try.dag_run_id, seq).tries.append(run_uuid)
        else:
            self._dag_run(task_try.dag_id, task_try.dag_run_id, seq)
        task_try.last_seq = seq
        task_try.task_id = _text(details.get("task_id")) or task_try.task_id
        try_number = details.get("try_number")
        if isinstance(try_number, int) and not isinstance(try_number, bool):
            task_try.try_number = try_number
        task_try.apply(link, state, details, error)
        duration = details.get("duration")
        if isinstance(duration, (int, float)) and not isinstance(duration, bool):
            task_try.duration = float(duration)

        job_node = self._node("job", job_key)
        job_node.last_seq = seq
        job_node.dag_ids.add(task_try.dag_id)
        if job_node.last_run != run_uuid:
            if run_uuid in job_node.runs:
                job_node.runs.remove(run_uuid)
            job_node.runs.append(run_uuid)
            job_node.last_run = run_uuid
        for role, items in (("input", event.get("inputs")), ("output", event.get("outputs"))):
            for key, dataset_facets in _datasets(items):
                dataset = self._node("dataset", key)
                dataset.last_seq = seq
                dataset.dag_ids.add(task_try.dag_id)
                if role == "input":
                    job_node.inputs.add(key)
                    dataset.readers.add(job_key)
                    dataset.last_run = dataset.last_run if dataset.writers else run_uuid
                else:
                    job_node.outputs.add(key)
                    dataset.writers.add(job_key)
                    dataset.last_run = run_uuid
                    columns = _mapping(_mapping(dataset_facets.get("columnLineage")).get("fields"))
                    if columns:
                        dataset.column_lineage = columns

    def _dag_run(self, dag_id: str, run_id: str, seq: int) -> _DagRun:
        dag_run = self._dag_runs.get((dag_id, run_id))
        if dag_run is None:
            dag_run = self._dag_runs[(dag_id, run_id)] = _DagRun(dag_id, run_id)
        dag_run.last_seq = seq
        return dag_run

    # -- queries ---------------------------------------------------------------------------------

    def _tries_of(self, dag_run: _DagRun) -> List[Dict[str, Any]]:
        tries = [self._tries[run_uuid] for run_uuid in dag_run.tries]
        tries.sort(key=lambda t: (t.task_id, t.try_number or 0, t.events[0]["id"] if t.events else 0))
        shown = []
        for index, task_try in enumerate(tries):
            later = tries[index + 1] if index + 1 < len(tries) else None
            retried = task_try.state == "up_for_retry" or (
                later is not None and later.task_id == task_try.task_id and later.job == task_try.job
            )
            shown.append(task_try.as_dict(retried))
        return shown

    def _dag_run_dict(self, dag_run: _DagRun) -> Dict[str, Any]:
        tries = self._tries_of(dag_run)
        state, reported = dag_run.state, dag_run.state is not None
        if state is None:  # no DAG-run event: what its tries say
            final = [t["state"] for t in tries if not t["retried"]]
            if any(s in ("failed", "upstream_failed") for s in final):
                state = "failed"
            elif any(s in ("running", "queued", "up_for_retry") for s in final):
                state = "running"
            elif final:
                state = "success"
        start = dag_run.start or min((t["start"] for t in tries if t["start"]), default=None)
        end = dag_run.end
        return {
            "dag_id": dag_run.dag_id,
            "run_id": dag_run.run_id,
            "run_uuid": dag_run.run_uuid,
            "state": state,
            "state_reported": reported,
            "start": start,
            "end": end,
            "duration": _seconds_between(start, end),
            "error": dag_run.error,
            "events": list(dag_run.events),
            "tries": tries,
        }

    def runs(
        self, dag_id: Optional[str] = None, state: Optional[str] = None, limit: int = 50, offset: int = 0
    ) -> Dict[str, Any]:
        """DAG runs, newest first, with their tries; filtered by DAG and by the state of the run or a try."""
        limit, offset = max(1, min(int(limit), MAX_RUNS_PAGE)), max(0, int(offset))
        with self._lock:
            self._refresh()
            every = sorted(self._dag_runs.values(), key=lambda r: r.last_seq, reverse=True)
            dags: Dict[str, int] = {}
            states: Set[str] = set()
            for dag_run in every:
                dags[dag_run.dag_id] = dags.get(dag_run.dag_id, 0) + 1
                states.update(s for s in [dag_run.state] if s)
            states.update(t.state for t in self._tries.values() if t.state)
            chosen = [r for r in every if not dag_id or r.dag_id == dag_id]
            if state:
                chosen = [
                    r
                    for r in chosen
                    if r.state == state or any(self._tries[u].state == state for u in r.tries)
                ]
            page = [self._dag_run_dict(r) for r in chosen[offset : offset + limit]]
        return {
            "dags": [{"dag_id": name, "runs": count} for name, count in sorted(dags.items())],
            "states": sorted(states),
            "total": len(chosen),
            "offset": offset,
            "limit": limit,
            "dag_runs": page,
        }

    def _node_summary(self, node: _Node) -> Dict[str, Any]:
        run = self._tries.get(node.last_run or "")
        return {
            "id": node.id,
            "kind": node.kind,
            "namespace": node.key[0],
            "name": node.key[1],
            "state": run.state if run is not None else None,
        }

    def graph(self, dag_id: Optional[str] = None, limit: int = 500) -> Dict[str, Any]:
        """Jobs and datasets (inputs → job → outputs), left to right; past ``limit``, the newest jobs."""
        limit = max(1, min(int(limit), MAX_GRAPH_NODES))
        with self._lock:
            self._refresh()
            jobs = [j for j in self._jobs.values() if not dag_id or dag_id in j.dag_ids]
            jobs.sort(key=lambda j: j.last_seq, reverse=True)
            chosen: Dict[str, _Node] = {}
            every: Set[str] = set()
            for job in jobs:
                touched = [self._datasets[k] for k in sorted(job.inputs | job.outputs)]
                every.update([job.id, *(d.id for d in touched)])
                fresh = [n for n in [job, *touched] if n.id not in chosen]
                if len(chosen) + len(fresh) > limit:
                    continue
                chosen.update((n.id, n) for n in fresh)
            edges: List[Tuple[str, str]] = []
            for node in chosen.values():
                if node.kind != "job":
                    continue
                for key in sorted(node.inputs):
                    if self._datasets[key].id in chosen:
                        edges.append((self._datasets[key].id, node.id))
                for key in sorted(node.outputs):
                    if self._datasets[key].id in chosen:
                        edges.append((node.id, self._datasets[key].id))
            summaries = [self._node_summary(n) for n in chosen.values()]
            dags = sorted({d for j in self._jobs.values() for d in j.dag_ids})
        order = sorted(summaries, key=lambda n: (n["namespace"], n["name"], n["kind"]))
        jobs_shown = {n["id"] for n in summaries if n["kind"] == "job"}
        placed = layout([n["id"] for n in order], edges, jobs_shown)
        for summary in summaries:
            summary.update(placed.positions[summary["id"]])
        return {
            "nodes": summaries,
            "edges": [{"source": s, "target": t, "back": (s, t) in placed.back_edges} for s, t in edges],
            "namespaces": sorted({n["namespace"] for n in summaries}),
            "dags": dags,
            "width": placed.width,
            "height": placed.height,
            "total_nodes": len(every),
            "truncated": len(every) > len(chosen),
        }

    def node(self, node_id: str) -> Optional[Dict[str, Any]]:
        """One node's details: a dataset's readers, writers and column lineage; a job's recent runs."""
        with self._lock:
            self._refresh()
            node = self._nodes.get(node_id)
            if node is None:
                return None
            out = self._node_summary(node)
            if node.kind == "dataset":
                out["readers"] = [self._node_summary(self._jobs[k]) for k in sorted(node.readers)]
                out["writers"] = [self._node_summary(self._jobs[k]) for k in sorted(node.writers)]
                out["column_lineage"] = _column_lineage(node.column_lineage)
            else:
                out["inputs"] = [self._node_summary(self._datasets[k]) for k in sorted(node.inputs)]
                out["outputs"] = [self._node_summary(self._datasets[k]) for k in sorted(node.outputs)]
                runs = []
                for run_uuid in reversed(node.runs):
                    task_try = self._tries[run_uuid]
                    retried = task_try.state == "up_for_retry" or any(
                        t.job == task_try.job
                        and t.dag_run_id == task_try.dag_run_id
                        and (t.try_number or 0) > (task_try.try_number or 0)
                        for t in (self._tries[u] for u in node.runs)
                    )
                    runs.append({**task_try.as_dict(retried), "dag_run_id": task_try.dag_run_id})
                out["runs"] = runs
        return out


def _column_lineage(fields: Dict[str, Any]) -> List[Dict[str, Any]]:
    rows = []
    for field, lineage in sorted(fields.items()):
        sources = []
        inputs = _mapping(lineage).get("inputFields")
        for source in inputs if isinstance(inputs, list) else []:
            source = _mapping(source)
            sources.append(
                {
                    "namespace": _text(source.get("namespace")),
                    "name": _text(source.get("name")),
                    "field": _text(source.get("field")),
                }
            )
        rows.append({"field": str(field), "inputs": sources})
    return rows


def event_view(store: Store, seq: int) -> Optional[Dict[str, Any]]:
    """One stored event: as received, parsed, the mock API's checks of it and what redaction masked."""
    row = store.event_row(seq)
    if row is None:
        return None
    try:
        event: Any = json.loads(row["body"])
        parse_error = None
    except ValueError as exc:
        event, parse_error = None, str(exc)
    return {
        "id": row["seq"],
        "idempotency_key": row["idempotency_key"],
        "received_at": row["received_at"],
        "raw": row["body"],
        "event": event,
        "parse_error": parse_error,
        "problems": run_event_problems(event) if parse_error is None else [f"not JSON: {parse_error}"],
        "masked": masked_paths(event),
    }
