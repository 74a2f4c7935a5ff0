"""Tables (and columns) from SQL, with ``openlineage-sql``: the parser the OpenLineage provider uses.

Optional (``alvin-integration[sql]``) and imported on first use. Parsing never raises: what could
not be read becomes OpenLineage's ``extractionError`` facet. Nothing here reads a connection or
makes a call; ``connections`` names where the SQL runs.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import re
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from alvin_integration.bounded import put_bounded
from alvin_integration.logs import log_once
from alvin_integration.model import ColumnLineageDatasetFacet, Dataset, ExtractionErrorRunFacet
from alvin_integration.workers import DaemonPool

MAX_SQL_BYTES = 1024 * 1024  # larger SQL is not parsed (its parse could cost the task real time)
CACHE_SIZE = 32
_cache: Dict[Tuple[bytes, SqlSource], Future[SqlLineage]] = {}  # (SQL digest, source) -> parse
_parsing = DaemonPool(1, "alvin-sql-parse")
_UNSET: Any = object()
_parser: Any = _UNSET

# Query parameters and leftover templating, replaced so that the statement parses:
# %(name)s and %s (pyformat), {{ ... }} (unrendered Jinja) become NULL; {% ... %} and {# ... #} go.
_PYFORMAT = re.compile(r"%\([A-Za-z_][A-Za-z0-9_]*\)s|%s")
_JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_JINJA_BLOCK = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class SqlSource:
    """Where SQL runs, as named from the task's connection: namespace, dialect, default qualifiers."""

    namespace: str
    dialect: Optional[str] = None
    database: Optional[str] = None
    schema: Optional[str] = None
    name_parts: int = 3  # database.schema.table (3), database.table (2), table (1)
    case: Optional[str] = None  # how the engine folds unquoted names: "lower", "upper" or None


@dataclass
class SqlLineage:
    """What the SQL reads and writes, and what could not be read."""

    inputs: List[Dataset] = field(default_factory=list)
    outputs: List[Dataset] = field(default_factory=list)
    error: Optional[ExtractionErrorRunFacet] = None


def _load_parser() -> Any:
    global _parser
    if _parser is _UNSET:
        try:
            _parser = importlib.import_module("openlineage_sql")
        except Exception:
            _parser = None
    return _parser


def prepared(statement: str) -> str:
    """A statement with parameters and leftover Jinja replaced, so that a SQL parser reads it."""
    statement = _JINJA_BLOCK.sub(" ", statement)
    statement = _JINJA_EXPRESSION.sub("NULL", statement)
    return _PYFORMAT.sub("NULL", statement)


def statements_of(sql: Union[str, Sequence[str]]) -> List[str]:
    """The statements of an operator's ``sql`` (a string or a list of strings), blanks left out."""
    items = [sql] if isinstance(sql, str) else [str(s) for s in sql]
    return [s for s in items if s.strip()]


def _part(table: Any, part: str, source: SqlSource) -> Optional[str]:
    """One part of a parsed table name, folded as the engine folds it unless it was quoted."""
    text = getattr(table, part, None)
    quoting = getattr(getattr(table, "quote_style", None), part, None)
    if text is None or quoting is not None or source.case is None:
        return text
    return str(text).lower() if source.case == "lower" else str(text).upper()


def table_name(table: Any, source: SqlSource) -> str:
    """A parsed table's dataset name, qualified with the connection's defaults where SQL left them out."""
    name, schema = _part(table, "name", source), _part(table, "schema", source)
    if source.name_parts == 1:
        parts = [schema, name]
    elif source.name_parts == 2:  # MySQL-like: a schema is a database
        parts = [schema or _part(table, "database", source) or source.database, name]
    else:
        parts = [_part(table, "database", source) or source.database, schema or source.schema, name]
    return ".".join(str(part) for part in parts if part)


def parse_sql(sql: Union[str, Sequence[str]], source: SqlSource) -> SqlLineage:
    """The tables ``sql`` reads and writes, with column lineage on outputs; never raises.

    A try's START and end ask for the same SQL: the second answer comes from a small cache.
    """
    found = parse_sql_within(sql, source, wait=None)
    assert found is not None  # waited without a limit
    return found


def parse_sql_within(
    sql: Union[str, Sequence[str]], source: SqlSource, wait: Optional[float]
) -> Optional[SqlLineage]:
    """``parse_sql`` on a worker thread, waiting at most ``wait`` seconds (None: no limit).

    None when the parse is not done in time: it goes on (the parser releases the GIL while it
    works, so the task's own thread runs meanwhile) and a later call for the same SQL gets it.
    """
    statements = statements_of(sql)
    key = (hashlib.blake2b("\0".join(statements).encode("utf-8", "replace")).digest(), source)
    future = _cache.get(key)
    if future is None:
        future = _parsing.submit(lambda: _parse(statements, source))
        put_bounded(_cache, key, future, CACHE_SIZE)
    try:
        done = future.result(timeout=wait)
    except FutureTimeout:
        return None
    return SqlLineage(list(done.inputs), list(done.outputs), done.error)


def _parse(statements: List[str], source: SqlSource) -> SqlLineage:
    if not statements:
        return SqlLineage()
    size = sum(len(s.encode("utf-8", "replace")) for s in statements)
    if size > MAX_SQL_BYTES:
        message = f"SQL of {size} bytes not parsed (the limit is {MAX_SQL_BYTES} bytes)"
        return SqlLineage(error=ExtractionErrorRunFacet(len(statements), [(None, message, None)]))
    parser = _load_parser()
    if parser is None:
        log_once(
            "no-sql-parser",
            logging.INFO,
            "alvin-integration: tables are not read from SQL without the [sql] extra "
            "(pip install 'alvin-integration[sql]'); the SQL itself is reported",
        )
        message = "tables are not read from SQL: install alvin-integration[sql]"
        return SqlLineage(error=ExtractionErrorRunFacet(len(statements), [(None, message, None)]))
    found = SqlLineage()
    errors: List[Tuple[Optional[int], str, Optional[str]]] = []
    for number, statement in enumerate(statements):  # one at a time: columns belong to its output
        try:
            meta = parser.parse([prepared(statement)], dialect=source.dialect, default_schema=None)
        except Exception as exc:  # the parser's own failure, whatever it is
            errors.append((number, f"the SQL parser failed: {type(exc).__name__}: {exc}", statement))
            continue
        errors += [
            (number, str(getattr(e, "message", e)), statement) for e in getattr(meta, "errors", None) or []
        ]
        _merge(found, meta, source)
    found.error = ExtractionErrorRunFacet(len(statements), errors) if errors else None
    return found


def _merge(found: SqlLineage, meta: Any, source: SqlSource) -> None:
    """Add one statement's tables, and its column lineage to its one output, to what was found."""
    inputs, outputs = _datasets(meta.in_tables, source), _datasets(meta.out_tables, source)
    columns: Dict[str, List[Tuple[str, str, str]]] = {}
    for column in getattr(meta, "column_lineage", None) or []:
        fields = [
            (source.namespace, table_name(item.origin, source), str(item.name))
            for item in column.lineage
            if item.origin is not None
        ]
        if fields:
            columns[str(column.descendant.name)] = fields
    if columns and len(outputs) == 1:
        outputs[0].facets["columnLineage"] = ColumnLineageDatasetFacet(columns)
    for target, more in ((found.inputs, inputs), (found.outputs, outputs)):
        for dataset in more:
            known = next((d for d in target if d.name == dataset.name), None)
            if known is None:
                target.append(dataset)
            elif "columnLineage" in dataset.facets:  # a later statement writing it again
                known.facets["columnLineage"] = dataset.facets["columnLineage"]


def _datasets(tables: Any, source: SqlSource) -> List[Dataset]:
    found: List[Dataset] = []
    for table in tables or []:
        name = table_name(table, source)
        if name and all(d.name != name for d in found):
            found.append(Dataset(source.namespace, name))
    return found
