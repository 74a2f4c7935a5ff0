"""Datasets a task declares: its ``inlets`` and ``outlets``, in the forms of Airflow 1.10 to 3.x.

Lineage found from what a task does (SQL, hooks, users' extractors) lives beside this module.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, Iterable, List, Optional, Tuple
from urllib.parse import urlsplit

from alvin_integration.model import Dataset
from alvin_integration.producers.airflow.host_attrs import read_attr


def uri_to_dataset(uri: str) -> Dataset:
    """A dataset for a URI, per the OpenLineage naming conventions (namespace = scheme://authority)."""
    parts = urlsplit(uri)
    if parts.scheme and parts.netloc:
        return Dataset(f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/")
    if parts.scheme:
        return Dataset(parts.scheme, parts.path)
    return Dataset("file" if uri.startswith("/") else "airflow", uri)


# Airflow 2's serialized DAGs (what the scheduler holds) keep a lineage entity as its repr:
# "File(url='s3://b/k', type_hint=None)", "Table(database='db', cluster='c', name='t', ...)".
_ENTITY_REPR = re.compile(r"^(?:File|Table|Dataset|Asset)\((.*)\)$", re.DOTALL)
_REPR_FIELD = re.compile(r"(\w+)='((?:[^'\\]|\\.)*)'")


def _entity_from_repr(text: str) -> Any:
    match = _ENTITY_REPR.match(text)
    if match is None:
        return None
    return SimpleNamespace(**dict(_REPR_FIELD.findall(match.group(1))))


def entity_to_dataset(entity: Any) -> Optional[Dataset]:
    """A dataset for an Airflow lineage entity: 1.10 DataSet/File, 2.x File/Table/Dataset, 3.x Asset."""
    if isinstance(entity, str):
        entity = _entity_from_repr(entity) or entity
    uri = read_attr(entity, "uri", "url")
    if isinstance(uri, str) and uri:
        return uri_to_dataset(uri)
    cluster, database = read_attr(entity, "cluster"), read_attr(entity, "database")
    name = read_attr(entity, "name")
    if name and (cluster or database):  # airflow.lineage.entities.Table
        return Dataset(str(cluster or "default"), f"{database}.{name}" if database else str(name))
    if isinstance(name, str) and "://" in name:  # Airflow 1.10 File("s3://...")
        return uri_to_dataset(name)
    qualified = read_attr(entity, "qualified_name")  # other Airflow 1.10 DataSets ("file:///tmp/x")
    if qualified:
        return uri_to_dataset(str(qualified))
    if isinstance(entity, str) and entity:
        return uri_to_dataset(entity)
    return None


def datasets(entities: Any) -> List[Dataset]:
    """Datasets for a task's inlets or outlets; entities we cannot name are left out."""
    if entities is None or isinstance(entities, (str, bytes)):
        entities = [entities] if entities else []
    found: List[Dataset] = []
    try:
        items: Iterable[Any] = list(entities)
    except TypeError:
        return found
    for entity in items:
        dataset = entity_to_dataset(entity)
        if dataset is not None and dataset not in found:
            found.append(dataset)
    return found


def declared_lineage(task: Any, name: str) -> List[Any]:
    """A task's declared ``inlets``/``outlets``; 1.10 to 2.2 keep them in ``_inlets`` until execute."""
    value = read_attr(task, name) or read_attr(task, "_" + name)
    if isinstance(value, dict):  # 1.10: {"datasets": [...], "task_ids": [...], "auto": False}
        value = value.get("datasets")
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        value = [value] if value else []
    # 2.2 also keeps upstream task ids there (`>` lineage); a dataset name has a scheme.
    return [v for v in value if not (isinstance(v, str) and "://" not in v)]


def declared_datasets(task: Any) -> Tuple[List[Dataset], List[Dataset]]:
    """The inputs and outputs a task declares."""
    return datasets(declared_lineage(task, "inlets")), datasets(declared_lineage(task, "outlets"))
