"""What every operator family shares: the row of a table, the result, and reading and naming helpers.

Nothing here imports a provider or opens a connection: an operator's attributes are read with
``getattr`` (guarded), a connection's fields through the ``connection`` callable the caller passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from alvin_integration.model import Dataset, ExternalQueryRunFacet, Facet, merge_datasets
from alvin_integration.producers.airflow.host_attrs import connection_extra, connection_extras

WILDCARD = "*"
Connection = Callable[[str], Optional[Any]]
SqlSourceOf = Callable[[str], Optional[Any]]


@dataclass(frozen=True)
class SqlToParse:
    """SQL whose tables the caller names with its SQL parser, and where it runs.

    With ``namespace`` set, the SQL runs there (BigQuery, Athena, a Redshift cluster of the Data
    API): the caller builds its source from these fields alone. Without it, the connection
    ``conn_id`` (the one that *runs* the SQL) names the place, and ``database`` / ``schema``, when
    set, replace that connection's defaults (the operator's catalog and schema).
    """

    sql: Any  # a statement or a list of statements, as the operator holds it
    conn_id: Optional[str] = None
    namespace: Optional[str] = None
    dialect: Optional[str] = None
    database: Optional[str] = None
    schema: Optional[str] = None
    name_parts: int = 3
    case: Optional[str] = None  # how the engine folds unquoted names: "lower", "upper" or None


@dataclass
class OperatorLineage:
    """What an operator's arguments say it reads and writes, and why a dataset was left out."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    sql: List[SqlToParse] = field(default_factory=list)
    run_facets: Dict[str, Facet] = field(default_factory=dict)
    errors: List[str] = field(default_factory=list)


class Context:
    """One extraction: the task, the caller's connection readers, and the lineage being built."""

    def __init__(self, task: Any, connection: Connection, sql_source: SqlSourceOf, at_end: bool) -> None:
        self.task = task
        self.at_end = at_end
        self.lineage = OperatorLineage()
        self._connection = connection
        self._sql_source = sql_source
        self.operator = type(task).__name__

    # --- reading the operator --------------------------------------------------------------
    def get(self, *names: str) -> Any:
        """The first of the task's attributes ``names`` that is set (a raising property reads as unset)."""
        for name in names:
            try:
                value = getattr(self.task, name, None)
            except Exception:
                value = None
            if value is not None and value != "":
                return value
        return None

    def text(self, *names: str) -> Optional[str]:
        """The first of ``names`` that holds text."""
        for name in names:
            value = self.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None

    def texts(self, *names: str) -> List[str]:
        """The first of ``names`` that is set, as a list of texts (one text or a list of them)."""
        value = self.get(*names)
        if isinstance(value, str):
            return [value] if value.strip() else []
        if isinstance(value, (list, tuple)):
            return [str(item) for item in value if isinstance(item, str) and item.strip()]
        return []

    # --- reading connections ---------------------------------------------------------------
    def extras(self, conn_id: Optional[str]) -> Dict[str, Any]:
        """The extras of a connection; empty where there is none or it cannot be read."""
        conn = self.connection(conn_id)
        return {} if conn is None else connection_extras(conn)

    def connection(self, conn_id: Optional[str]) -> Optional[Any]:
        """The connection ``conn_id`` as the caller reads it; None (and a reason) where it cannot be."""
        if not conn_id:
            return None
        try:
            return self._connection(conn_id)
        except Exception as exc:  # unknown here, or its secrets backend failed
            self.error(f"connection {conn_id!r} could not be read: {type(exc).__name__}: {exc}")
            return None

    def sql_source(self, conn_id: Optional[str]) -> Optional[Any]:
        """Where SQL on ``conn_id`` runs (namespace, database, schema, name_parts, case), or None."""
        if not conn_id:
            return None
        try:
            return self._sql_source(conn_id)
        except Exception as exc:
            self.error(f"connection {conn_id!r} could not be read: {type(exc).__name__}: {exc}")
            return None

    # --- building the result ---------------------------------------------------------------
    def error(self, message: str) -> None:
        """Say why a dataset was left out."""
        text = f"{self.operator}: {message}"
        if text not in self.lineage.errors:
            self.lineage.errors.append(text)

    def add(self, output: bool, dataset: Optional[Tuple[str, str]], missing: str = "") -> None:
        """Add ``(namespace, name)`` as an input or output; None adds ``missing`` to the errors."""
        if dataset is None:
            if missing:
                self.error(f"{'output' if output else 'input'} left out: {missing}")
            return
        merge_datasets(self.lineage.outputs if output else self.lineage.inputs, [Dataset(*dataset)])

    def sql(self, sql: Any, **where: Any) -> None:
        """SQL for the caller to parse (see ``SqlToParse``)."""
        if (isinstance(sql, str) and sql.strip()) or (isinstance(sql, (list, tuple)) and sql):
            self.lineage.sql.append(SqlToParse(sql, **where))

    def query_id(self, query_id: Any, source: str) -> None:
        """The id of the job or query the operator ran (``at_end`` only)."""
        if isinstance(query_id, str) and query_id and "externalQuery" not in self.lineage.run_facets:
            self.lineage.run_facets["externalQuery"] = ExternalQueryRunFacet(query_id, source)

    def table(self, output: bool, conn_id: Optional[str], table: Any, **defaults: Optional[str]) -> None:
        """A table named by the operator's arguments, on the SQL connection ``conn_id``.

        ``defaults`` (``database``, ``schema``) are the operator's own qualifiers; the connection's
        fill in the rest.
        """
        if not isinstance(table, str) or not table.strip():
            return
        source = self.sql_source(conn_id)
        if source is None:
            self.add(output, None, f"{table}: connection {conn_id!r} names no database")
            return
        name, why = qualified(table, source, defaults.get("database"), defaults.get("schema"))
        self.add(output, (str(_attr(source, "namespace")), name) if name else None, f"{table}: {why}")


Extract = Callable[[Context], None]


@dataclass(frozen=True)
class Row:
    """One operator of a family: a description of its inputs and outputs, and how to read them."""

    inputs: str
    outputs: str
    extract: Extract


def _attr(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


extra = connection_extra  # the families read extras by this name


def object_name(path: str) -> str:
    """An object path (GCS, S3, a file) as a dataset name, as the OpenLineage providers name it.

    A wildcard path is cut at the wildcard; then a path whose last segment does not look like a
    file (no dot: ``dir/pre_``, ``dir/file.`` once cut) names its directory; a directory is named
    without its slashes; the root is ``/``.
    """
    path = path.split(WILDCARD, 1)[0]
    last = path.rsplit("/", 1)[-1].rstrip(".")
    if "." not in last and not path.endswith("/"):
        path = path.rsplit("/", 1)[0] if "/" in path else ""
    name = path.strip("/")
    return name if name and name != "." else "/"


def prefix_name(prefix: Optional[str]) -> str:
    """A key prefix (``data/2024/``) as a dataset name: the prefix itself, ``/`` for a whole bucket."""
    name = (prefix or "").split(WILDCARD, 1)[0].strip("/")
    return name or "/"


_URL_SCHEMES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs", "gcs": "gs"}


def url_dataset(url: str, name_of: Callable[[str], str] = object_name) -> Optional[Tuple[str, str]]:
    """``s3://bucket/key``, ``gs://bucket/object``, ``abfss://container@account.dfs.core.windows.net/path``
    or ``azure://account.blob.core.windows.net/container/path`` as (namespace, name); None otherwise."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return None
    scheme = scheme.lower()
    where, _, path = rest.partition("/")
    if not where:
        return None
    if scheme in _URL_SCHEMES:
        return f"{_URL_SCHEMES[scheme]}://{where}", name_of(path)
    if scheme in ("abfss", "wasbs") and "@" in where:
        return f"{scheme}://{where}", name_of(path)
    if scheme == "azure" and where.endswith(".blob.core.windows.net"):
        container, _, blob = path.partition("/")
        if container:
            return f"wasbs://{container}@{where.split('.', 1)[0]}", name_of(blob)
    return None


def in_bucket(
    scheme: str, bucket: Any, key: Any, name_of: Callable[[str], str] = object_name
) -> Optional[Tuple[str, str]]:
    """(``<scheme>://<bucket>``, key) from a bucket and a key, or from a key that is a full URL."""
    if isinstance(key, str) and "://" in key:
        return url_dataset(key, name_of)
    if not isinstance(bucket, str) or not bucket.strip():
        return None
    bucket = bucket.strip()
    if "://" in bucket:  # a bucket given as a URL: gs://bucket
        bucket = bucket.split("://", 1)[1].strip("/")
    return f"{scheme}://{bucket}", name_of(key if isinstance(key, str) else "")


def _split_name(name: str) -> List[Tuple[str, bool]]:
    """The parts of a dotted SQL name, each with whether it was quoted."""
    parts: List[Tuple[str, bool]] = []
    current, quote, quoted = "", "", False
    closing = {'"': '"', "`": "`", "[": "]"}
    for char in name.strip():
        if quote:
            if char == closing[quote]:
                quote = ""
            else:
                current += char
        elif char in closing:
            quote, quoted = char, True
        elif char == ".":
            parts.append((current.strip(), quoted))
            current, quoted = "", False
        else:
            current += char
    parts.append((current.strip(), quoted))
    return parts


def qualified(
    table: str, source: Any, database: Optional[str] = None, schema: Optional[str] = None
) -> Tuple[Optional[str], str]:
    """A table name qualified as its engine names it (``database.schema.table``), or None and why."""
    parts = [part for part in _split_name(table) if part[0]]
    wanted = int(_attr(source, "name_parts") or 3)
    named = [
        ("database", database or _attr(source, "database")),
        ("schema", schema or _attr(source, "schema")),
    ]
    missing = wanted - len(parts)
    if missing > 0:
        fillers = named[: wanted - 1][:missing]
        for what, value in fillers:
            if not value:
                return None, f"no {what} to qualify it with (neither the operator's nor the connection's)"
        parts = [(str(value), False) for _, value in fillers] + parts
    case = _attr(source, "case")
    names = [
        part.lower()
        if case == "lower" and not quoted
        else part.upper()
        if case == "upper" and not quoted
        else part
        for part, quoted in parts
    ]
    return ".".join(names), ""


def bigquery_table(text: Any, project: Optional[str]) -> Tuple[Optional[Tuple[str, str]], str]:
    """``project.dataset.table``, ``project:dataset.table`` or ``dataset.table`` (in ``project``)."""
    if isinstance(text, dict):  # a TableReference resource: projectId, datasetId, tableId
        project = text.get("projectId") or project
        dataset, table = text.get("datasetId"), text.get("tableId")
        if not (dataset and table):
            return None, f"incomplete table reference {text!r}"
        text = f"{dataset}.{table}"
    if not isinstance(text, str) or not text.strip():
        return None, "no table"
    cleaned = text.strip().strip("`").replace(":", ".", 1).split("$", 1)[0]
    parts = [part.strip("`") for part in cleaned.split(".")]
    if len(parts) == 2:
        if not project:
            return None, f"{text}: no project (set project_id or the connection's project)"
        parts = [project, *parts]
    if len(parts) != 3 or not all(parts):
        return None, f"{text}: not a BigQuery table name"
    return ("bigquery", ".".join(parts)), ""


def each(values: Any) -> List[Any]:
    """Values as a list: None is none, a text or a dict is one."""
    if values is None:
        return []
    if isinstance(values, (str, dict)):
        return [values]
    try:
        return list(values)
    except TypeError:
        return [values]
