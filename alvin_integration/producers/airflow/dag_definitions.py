"""DAG definitions for ``/api/v1/metadata``: read from a DAG of any Airflow version, sent when changed.

The scheduler holds serialized DAGs and ``sync-metadata`` parses the real ones; an entity is built
only from what both have alike (ids, operator class names, dependencies, schedule, declared
lineage), so the two give the same structure hash and one never resends what the other sent.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from alvin_integration.emitter import get_emitter
from alvin_integration.metadata_sync import Entity, HashLedger, SyncResult, structure_hash, sync_entities
from alvin_integration.producers.airflow import version_compat
from alvin_integration.producers.airflow.extract.declared import datasets, declared_lineage
from alvin_integration.producers.airflow.host_attrs import read_attr, short_text
from alvin_integration.producers.airflow.selection import dag_selected, policy_of

# Structure hashes this process already compared with the ledger: a DAG that runs every minute
# costs one hash per run, not a file read.
_seen: Dict[str, str] = {}


# Airflow's cron presets, as its timetables spell them in their summary.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def schedule_of(dag: Any) -> Optional[str]:
    """The DAG's schedule as text: its timetable's summary, else its cron (presets expanded)."""
    summary = read_attr(read_attr(dag, "timetable"), "summary")  # 2.2+ and serialized DAGs
    if isinstance(summary, str):
        return summary
    schedule = read_attr(dag, "schedule_interval", "schedule")  # 1.10; the 3.x task SDK's DAG
    if schedule is None:
        return None
    return CRON_PRESETS.get(str(schedule), str(schedule))


def task_entity(dag_id: str, task: Any) -> Entity:
    """One task of a DAG definition: its job name, operator, upstream tasks and declared lineage."""
    task_id = str(read_attr(task, "task_id"))
    return {
        "task_id": task_id,
        "job_name": f"{dag_id}.{task_id}",
        "operator": short_text(read_attr(task, "task_type")) or type(task).__name__,
        "upstream_task_ids": sorted(str(t) for t in (read_attr(task, "upstream_task_ids") or ())),
        "inputs": [d.to_dict() for d in datasets(declared_lineage(task, "inlets"))],
        "outputs": [d.to_dict() for d in datasets(declared_lineage(task, "outlets"))],
    }


def dag_entity(dag: Any) -> Entity:
    """The definition of one DAG as the metadata endpoint takes it."""
    dag_id = str(read_attr(dag, "dag_id"))
    tasks: List[Any] = list(read_attr(dag, "tasks") or [])
    return {
        "type": "DAG",
        "name": dag_id,
        "dag_id": dag_id,
        "description": short_text(read_attr(dag, "description")),
        "fileloc": short_text(read_attr(dag, "fileloc")),
        "schedule": schedule_of(dag),
        "tags": sorted(str(tag) for tag in (read_attr(dag, "tags") or ())),
        "owners": sorted({str(owner) for owner in (read_attr(t, "owner") for t in tasks) if owner}),
        "tasks": sorted((task_entity(dag_id, t) for t in tasks), key=lambda t: str(t["task_id"])),
    }


def sync_dags(dags: List[Any], force: bool = False) -> Optional[SyncResult]:
    """Spool the definitions of ``dags`` that changed since last sent (those the policy reports);
    None when not reporting."""
    emitter = get_emitter()
    if emitter is None:
        return None
    policy = policy_of(emitter.settings)
    return _sync([dag_entity(dag) for dag in dags if dag_selected(policy, dag)], force)


def _sync(entities: List[Entity], force: bool = False) -> Optional[SyncResult]:
    emitter = get_emitter()
    if emitter is None:
        return None
    result = sync_entities(
        entities,
        HashLedger(emitter.settings.spool_dir),
        emitter.emit,
        emitter.settings.platform_id,
        version_compat.AIRFLOW_VERSION_TEXT,
        force=force,
    )
    _seen.update({str(e["name"]): structure_hash(e) for e in entities})
    return result


def report_definition(dag: Any) -> None:
    """Spool a running DAG's definition if its structure changed (called at each DAG-run start)."""
    emitter = get_emitter()
    if dag is None or emitter is None or not dag_selected(policy_of(emitter.settings), dag):
        return
    entity = dag_entity(dag)
    if _seen.get(str(entity["name"])) != structure_hash(entity):
        _sync([entity])
