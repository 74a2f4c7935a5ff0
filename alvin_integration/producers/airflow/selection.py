"""Which tasks and DAGs of this Airflow the policy reports: their ids, tags and operator classes,
read from the objects the host hands us (no database, no DAG parsing)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, List, Optional, Tuple

from alvin_integration.logs import log_once
from alvin_integration.policy import Policy
from alvin_integration.producers.airflow.host_attrs import read_attr

# The settings a policy was built from, and that policy: one Settings per process (a test's new one
# replaces it). The settings object is held, so its identity cannot be reused by another one.
_built: Optional[Tuple[Any, Policy]] = None


def policy_of(settings: Any) -> Policy:
    """The policy of ``settings``, built once per process; a pattern it ignores is logged once."""
    global _built
    if _built is not None and _built[0] is settings:
        return _built[1]
    policy = Policy.from_settings(
        settings.dags, settings.skip_operators, settings.send_sql, settings.send_stack_traces
    )
    _built = (settings, policy)
    for problem in policy.problems:
        log_once(f"policy:{problem}", logging.WARNING, "alvin-integration: %s", problem)
    return policy


def dag_tags(dag: Any) -> List[str]:
    """A DAG's tags as text; none where it has none or they cannot be read."""
    tags = read_attr(dag, "tags")
    try:
        return [str(tag) for tag in (tags or ())]
    except TypeError:
        return []


def operator_names(task: Any) -> List[str]:
    """The task's class and base class names (a serialized task's ``task_type`` where there is one)."""
    names = [getattr(cls, "__name__", "") for cls in type(task).__mro__]
    task_type = read_attr(task, "task_type")
    return [task_type, *names] if isinstance(task_type, str) else names


def task_selected(policy: Policy, ti: Any) -> bool:
    """Whether the try of ``ti`` is reported; reads only ids, the operator's classes and DAG tags."""
    task = read_attr(ti, "task")
    dag_id, task_id = str(read_attr(ti, "dag_id")), str(read_attr(ti, "task_id"))
    return policy.keeps_task(dag_id, task_id, operator_names(task), dag_tags(read_attr(task, "dag")))


def dag_selected(policy: Policy, dag_or_run: Any) -> bool:
    """Whether a DAG (or a DAG run, through the DAG it carries) is reported."""
    dag = read_attr(dag_or_run, "dag")  # a DAG run's DAG, where the host attached it
    tags = dag_tags(dag if dag is not None else dag_or_run)
    return policy.keeps_dag(str(read_attr(dag_or_run, "dag_id")), tags)


@dataclass
class PolicyReach:
    """What a policy keeps and leaves out of a set of DAGs (for ``doctor --dags-folder``)."""

    dags_kept: int = 0
    dags_left_out: int = 0
    tasks_kept: int = 0
    tasks_left_out: int = 0
    unmatched: List[str] = field(default_factory=list)  # ALVIN_DAGS patterns no DAG or task matches


def policy_reach(policy: Policy, dags: List[Any]) -> PolicyReach:
    """Count the DAGs and tasks ``policy`` reports among ``dags``; name the patterns that match none."""
    reach = PolicyReach()
    names: List[str] = []
    for dag in dags:
        dag_id, tags = str(read_attr(dag, "dag_id")), dag_tags(dag)
        names.append(dag_id)
        if policy.keeps_dag(dag_id, tags):
            reach.dags_kept += 1
        else:
            reach.dags_left_out += 1
        for task in read_attr(dag, "tasks") or ():
            task_id = str(read_attr(task, "task_id"))
            names.append(f"{dag_id}.{task_id}")
            if policy.keeps_task(dag_id, task_id, operator_names(task), tags):
                reach.tasks_kept += 1
            else:
                reach.tasks_left_out += 1
    reach.unmatched = [
        ("" if keeps else "!") + glob
        for keeps, glob in policy.dags
        if glob != "*" and not any(fnmatchcase(name, glob) for name in names)
    ]
    return reach
