"""What a try's hooks collected (Airflow 2.10+ and 3.x): datasets they read and wrote, SQL they ran.

Hooks record lineage in a per-process collector (S3, GCS, object storage: datasets; common-sql's
hooks: each statement with its job id, default database and schema). A process can run several
tries (``airflow dags test``), so what was collected before a try's START is left out of its end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from alvin_integration.bounded import put_bounded
from alvin_integration.model import Dataset
from alvin_integration.producers.airflow.compat import hook_lineage_collector
from alvin_integration.producers.airflow.extract.declared import uri_to_dataset
from alvin_integration.producers.airflow.host_attrs import read_attr

SQL_JOB = "sql_job"  # the extra key of common-sql's hooks
_marks: Dict[str, Tuple[int, int, int]] = {}  # a try's run id -> what was collected at its START


@dataclass
class SqlJob:
    """One statement a hook ran, and where."""

    sql: str
    conn_id: Optional[str]
    job_id: Optional[str] = None
    default_db: Optional[str] = None
    default_schema: Optional[str] = None


@dataclass
class HookLineage:
    """What the hooks of one try collected."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    sql_jobs: List[SqlJob] = field(default_factory=list)


def _collected(collector: Any) -> Tuple[List[Any], List[Any], List[Any]]:
    lineage = read_attr(collector, "collected_assets", "collected_datasets")  # 3.x / common-compat; 2.10
    if lineage is None:
        return [], [], []
    return list(lineage.inputs or []), list(lineage.outputs or []), list(read_attr(lineage, "extra") or [])


def mark_start(run_id: str) -> None:
    """Remember what was collected before this try started (its end reports only what came after)."""
    inputs, outputs, extra = _collected(hook_lineage_collector())
    put_bounded(_marks, run_id, (len(inputs), len(outputs), len(extra)), 10_000)


def _dataset(info: Any) -> Optional[Dataset]:
    uri = read_attr(read_attr(info, "asset", "dataset"), "uri")
    return uri_to_dataset(uri) if isinstance(uri, str) and uri else None


def _conn_id_of(hook: Any) -> Optional[str]:
    get_conn_id = getattr(hook, "get_conn_id", None)
    if callable(get_conn_id):
        return str(get_conn_id())
    attribute = read_attr(hook, "conn_name_attr")
    value = read_attr(hook, attribute) if isinstance(attribute, str) else None
    return value if isinstance(value, str) else None


def hook_lineage(run_id: str) -> HookLineage:
    """What this try's hooks collected since its START (everything, if its START was not seen here)."""
    inputs, outputs, extra = _collected(hook_lineage_collector())
    skip_in, skip_out, skip_extra = _marks.pop(run_id, (0, 0, 0))
    found = HookLineage()
    for infos, skip, target in ((inputs, skip_in, found.inputs), (outputs, skip_out, found.outputs)):
        for info in infos[skip:]:
            dataset = _dataset(info)
            if dataset is not None and dataset not in target:
                target.append(dataset)
    for item in extra[skip_extra:]:
        value = read_attr(item, "value")
        if read_attr(item, "key") != SQL_JOB or not isinstance(value, dict) or not value.get("sql"):
            continue
        found.sql_jobs.append(
            SqlJob(
                str(value["sql"]),
                _conn_id_of(read_attr(item, "context")),
                str(value["job_id"]) if value.get("job_id") is not None else None,
                value.get("default_db"),
                value.get("default_schema"),
            )
        )
    return found
