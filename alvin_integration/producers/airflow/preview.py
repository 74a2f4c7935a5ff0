"""``alvin-integration lineage``: what each task of a DAG bag will report on START, or why nothing.

Each task's templated fields are rendered for a sample logical date (the task's start date) with a
small context, as Airflow renders them before ``execute``; then the live path's ``lineage_of``
(``at_end=False``) finds its datasets. No task runs, no hook is made and no connection is opened:
connections are read from the secrets backends (environment variables first) as hooks read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any, Dict, List, Mapping, Optional, Tuple

from alvin_integration.config import airflow_config_path, read_alvin_section
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.host_attrs import read_attr
from alvin_integration.producers.airflow.read import read_task_try

# START waits a few ms for a SQL parse (then the end has the tables); a preview waits for it.
PARSE_WAIT = 30.0
RUN_ID = "alvin_lineage_preview"
NO_EXTRACTOR = (
    "no extractor for {operator}: declare inlets/outlets on the task, or register an extractor "
    "(ALVIN_EXTRACTORS or the alvin_integration.extractors entry point)"
)


@dataclass
class TaskPreview:
    """One task: the datasets it will report on START, or why none."""

    dag_id: str
    task_id: str
    operator: str
    inputs: List[Tuple[str, str]] = field(default_factory=list)
    outputs: List[Tuple[str, str]] = field(default_factory=list)
    reason: Optional[str] = None

    @property
    def has_lineage(self) -> bool:
        """Whether START will carry at least one dataset."""
        return bool(self.inputs or self.outputs)

    def to_dict(self) -> Dict[str, Any]:
        """The JSON form: ``{dag_id, task_id, operator, inputs, outputs, reason}``."""
        return {
            "dag_id": self.dag_id,
            "task_id": self.task_id,
            "operator": self.operator,
            "inputs": [{"namespace": n, "name": name} for n, name in self.inputs],
            "outputs": [{"namespace": n, "name": name} for n, name in self.outputs],
            "reason": self.reason,
        }


def extractors_setting(environ: Mapping[str, str]) -> Optional[str]:
    """``ALVIN_EXTRACTORS`` as task processes read it: the env, ``AIRFLOW__ALVIN__``, then ``[alvin]``."""
    section = read_alvin_section(airflow_config_path(environ))
    for value in (
        environ.get("ALVIN_EXTRACTORS"),
        environ.get("AIRFLOW__ALVIN__EXTRACTORS"),
        section.get("extractors"),
    ):
        if value and value.strip():
            return value.strip()
    return None


def sample_date(task: Any, dag: Any) -> datetime:
    """The logical date templates are rendered for: the task's (or DAG's) start date, else today."""
    start = read_attr(task, "start_date") or read_attr(dag, "start_date")
    if isinstance(start, datetime):
        return start if start.tzinfo else start.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)


def _macros() -> Any:
    try:
        import airflow.macros as macros  # 1.10 to 3.x
    except Exception:
        return None
    return macros


def template_context(task: Any, dag: Any, date: datetime, run_id: str = RUN_ID) -> Dict[str, Any]:
    """The context variables DAG authors template with, for ``date``; nothing read from a database."""
    ds, ts = date.strftime("%Y-%m-%d"), date.isoformat()
    return {
        "dag": dag,
        "task": task,
        "params": read_attr(task, "params") or {},
        "macros": _macros(),
        "ds": ds,
        "ds_nodash": ds.replace("-", ""),
        "ts": ts,
        "ts_nodash": date.strftime("%Y%m%dT%H%M%S"),
        "ts_nodash_with_tz": ts.replace("-", "").replace(":", ""),
        "logical_date": date,
        "execution_date": date,  # before 3.0
        "data_interval_start": date,
        "data_interval_end": date,
        "prev_ds": ds,
        "next_ds": ds,
        "run_id": run_id,
        "conf": {},
    }


def render(task: Any, dag: Any, date: Optional[datetime] = None, run_id: str = RUN_ID) -> Optional[str]:
    """Render the task's templated fields in place for ``date`` (default: a sample date); what
    failed, else None."""
    context = template_context(task, dag, date or sample_date(task, dag), run_id)
    try:
        task.render_template_fields(context)  # 1.10.6+, 2.x, 3.x
    except Exception as exc:  # a template that needs what only a run has (a variable, an XCom...)
        return f"its templates could not be rendered ({type(exc).__name__}: {exc}); read unrendered"
    return None


def _reason(operator: str, found: Any, rendering: Optional[str]) -> str:
    facet = found.run_facets.get("extractionError")
    errors = [message for _, message, _ in getattr(facet, "errors", [])]
    # a collector only a task process has says nothing about the task
    errors = [message for message in errors if not message.startswith("hook lineage:")]
    reason = "; ".join(errors) or NO_EXTRACTOR.format(operator=operator)
    return f"{reason}; {rendering}" if rendering else reason


def preview_task(task: Any, dag: Any, extractors: Optional[str] = None) -> TaskPreview:
    """What ``task`` will report on START, or why nothing; never raises."""
    dag_id, task_id = str(read_attr(dag, "dag_id")), str(read_attr(task, "task_id"))
    operator = type(task).__name__
    try:
        rendering = render(task, dag)
        ti = SimpleNamespace(task=task, dag_id=dag_id, task_id=task_id, run_id=RUN_ID, map_index=-1)
        found = lineage_of(read_task_try(ti, 1, "running"), extractors, at_end=False, start_wait=PARSE_WAIT)
    except Exception as exc:  # lineage_of never raises; reading a user's operator may
        return TaskPreview(dag_id, task_id, operator, reason=f"{type(exc).__name__}: {exc}")
    preview = TaskPreview(
        dag_id,
        task_id,
        operator,
        [(d.namespace, d.name) for d in found.inputs],
        [(d.namespace, d.name) for d in found.outputs],
    )
    if not preview.has_lineage:
        preview.reason = _reason(operator, found, rendering)
    return preview


def preview_dags(
    dags: List[Any], dag_ids: Tuple[str, ...] = (), extractors: Optional[str] = None
) -> List[TaskPreview]:
    """Every task of ``dags`` (only ``dag_ids`` if given), by DAG id then task id."""
    previews = []
    for dag in sorted(dags, key=lambda d: str(d.dag_id)):
        if dag_ids and dag.dag_id not in dag_ids:
            continue
        for task in sorted(dag.tasks, key=lambda t: str(t.task_id)):
            previews.append(preview_task(task, dag, extractors))
    return previews


def coverage(previews: List[TaskPreview]) -> float:
    """The percentage of tasks with lineage (100 for no task)."""
    return 100.0 * sum(p.has_lineage for p in previews) / len(previews) if previews else 100.0


def as_json(previews: List[TaskPreview]) -> str:
    """The JSON list ``alvin-integration lineage --format json`` prints."""
    return json.dumps([p.to_dict() for p in previews], indent=2)


def as_table(previews: List[TaskPreview]) -> str:
    """One block per task: its inputs and outputs, or why it has none; the coverage last."""
    lines = []
    for p in previews:
        lines.append(f"{p.dag_id}.{p.task_id} ({p.operator})")
        lines += [f"    in   {namespace}  {name}" for namespace, name in p.inputs]
        lines += [f"    out  {namespace}  {name}" for namespace, name in p.outputs]
        if p.reason:
            lines.append(f"    none: {p.reason}")
    with_lineage = sum(p.has_lineage for p in previews)
    lines.append(f"{with_lineage} of {len(previews)} task(s) have lineage ({coverage(previews):.0f}%)")
    return "\n".join(lines)
