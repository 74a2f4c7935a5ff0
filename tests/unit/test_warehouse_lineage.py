"""BigQuery and Snowflake operators, in the shapes the providers give them: no call to Google or Snowflake.

The classes below carry the attributes the real operators carry (their names are what the lineage
code looks at); the e2e rows do not install the google and snowflake providers.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import pytest

from alvin_integration.producers.airflow.extract import task_lineage
from alvin_integration.producers.airflow.extract.sql import SqlSource
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.read import read_task_try
from tests.support.skips import needs_sql_extra


class BigQueryInsertJobOperator:
    def __init__(self, configuration: Dict[str, Any], project_id: Optional[str] = None) -> None:
        self.configuration = configuration
        self.project_id = project_id
        self.gcp_conn_id = "google_cloud_default"
        self.job_id: Optional[str] = None  # set by execute()


class SnowflakeHook:
    def __init__(self) -> None:
        self.query_ids: List[str] = []


class SnowflakeOperator:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.conn_id = "snowflake_default"


class TaskInstance:
    def __init__(self, task: Any) -> None:
        self.task, self.dag_id, self.task_id, self.run_id, self.map_index = task, "dag", "task", "run", -1


@needs_sql_extra  # the query's tables come from its SQL
def test_a_bigquery_job_names_its_tables_by_project_and_reports_its_job_id() -> None:
    task = BigQueryInsertJobOperator(
        {"query": {"query": "INSERT INTO ds.target SELECT * FROM other.source", "useLegacySql": False}},
        project_id="my-project",
    )
    start = lineage_of(read_task_try(TaskInstance(task), 1, "running"), start_wait=60)
    assert [(d.namespace, d.name) for d in start.inputs] == [("bigquery", "my-project.other.source")]
    assert [(d.namespace, d.name) for d in start.outputs] == [("bigquery", "my-project.ds.target")]
    task.job_id = "airflow_1234"
    end = read_task_try(TaskInstance(task), 1, "success")
    facets = lineage_of(end, at_end=True).run_facets
    assert facets["externalQuery"].to_dict()["externalQueryId"] == "airflow_1234"
    assert facets["externalQuery"].to_dict()["source"] == "bigquery"
    assert end.external_ids["bigquery_job_id"] == "airflow_1234"


def test_snowflake_query_ids_come_from_the_hook_the_operator_already_made(monkeypatch: Any) -> None:
    monkeypatch.setitem(task_lineage._sources, "snowflake_default", None)  # no connection here
    task = SnowflakeOperator("SELECT 1")
    assert read_task_try(TaskInstance(task), 1, "running").external_ids == {}  # the hook is never created
    task._hook = SnowflakeHook()
    task._hook.query_ids.extend(["01b2-q1", "01b2-q2"])
    end = read_task_try(TaskInstance(task), 1, "success")
    assert end.external_ids["query_ids"] == ["01b2-q1", "01b2-q2"]
    query = lineage_of(end, at_end=True).run_facets["externalQuery"].to_dict()
    assert (query["externalQueryId"], query["source"]) == ("01b2-q1", "snowflake")


# Transfers: their SQL runs on the source's connection; the destination's names none of its tables.
class PostgresToGCSOperator:
    def __init__(self, sql: str) -> None:
        self.sql, self.postgres_conn_id, self.gcp_conn_id = sql, "shop_postgres", "acme_gcp"
        self.bucket, self.filename = "acme-exports", "customers/{}.json"


class GenericTransfer:
    def __init__(self, sql: str) -> None:
        self.sql, self.source_conn_id, self.destination_conn_id = sql, "shop_postgres", "acme_gcp"
        self.destination_table = "copy.customers"


class HiveToMySqlOperator:  # its destination's connection is a database's too: still not the one
    def __init__(self, sql: str) -> None:
        self.sql, self.hiveserver2_conn_id, self.mysql_conn_id = sql, "lake_hive", "shop_mysql"


class LedgerToGCSOperator:  # a transfer from a source we cannot tell: no table rather than a guess
    def __init__(self, sql: str) -> None:
        self.sql, self.ledger_conn_id, self.gcp_conn_id = sql, "ledger", "acme_gcp"


SOURCES = {
    "shop_postgres": SqlSource("postgres://shop-db:5432", "postgres", "shop", "public", 3, "lower"),
    "acme_gcp": SqlSource("bigquery", "bigquery", "acme-prod", None, 3, None),
    "lake_hive": SqlSource("hive://lake:10000", "hive", None, None, 2, "lower"),
    "shop_mysql": SqlSource("mysql://shop-mysql:3306", "mysql", "shop", None, 2, None),
}


def _names(datasets: List[Any]) -> List[Tuple[str, str]]:
    return [(d.namespace, d.name) for d in datasets]


@needs_sql_extra
@pytest.mark.parametrize(
    ("task", "inputs"),
    [
        (
            PostgresToGCSOperator("SELECT * FROM raw.customers"),
            [("postgres://shop-db:5432", "shop.raw.customers")],
        ),
        (GenericTransfer("SELECT * FROM raw.customers"), [("postgres://shop-db:5432", "shop.raw.customers")]),
        (HiveToMySqlOperator("SELECT * FROM raw.customers"), [("hive://lake:10000", "raw.customers")]),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, list) else "",
)
def test_a_transfers_sql_names_its_tables_from_the_source_connection_never_the_destination(
    monkeypatch: pytest.MonkeyPatch, task: Any, inputs: List[Tuple[str, str]]
) -> None:
    for conn_id, source in SOURCES.items():
        monkeypatch.setitem(task_lineage._sources, conn_id, source)
    found = lineage_of(read_task_try(TaskInstance(task), 1, "running"), start_wait=60)
    assert _names(found.inputs) == inputs  # before: ("bigquery", "acme-prod.raw.customers"), a phantom
    facet = found.run_facets.get("extractionError")  # (without Airflow here: no hook-lineage collector)
    assert not [e for e in (facet.errors if facet else []) if "SQL" in e[1]]


@needs_sql_extra
def test_a_transfer_whose_source_connection_is_unknown_reports_no_table_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for conn_id, source in SOURCES.items():
        monkeypatch.setitem(task_lineage._sources, conn_id, source)
    found = lineage_of(
        read_task_try(TaskInstance(LedgerToGCSOperator("SELECT * FROM raw.customers")), 1, "running")
    )
    assert found.inputs == [] and found.outputs == []
    errors = [e[1] for e in found.run_facets["extractionError"].errors if "SQL" in e[1]]
    assert errors == [
        "tables not named from SQL: LedgerToGCSOperator is a transfer and names no connection its SQL "
        "runs on (its source's)"
    ]


@pytest.mark.parametrize(
    ("task", "conn_id"),
    [
        (PostgresToGCSOperator("SELECT 1"), "shop_postgres"),
        (GenericTransfer("SELECT 1"), "shop_postgres"),
        (HiveToMySqlOperator("SELECT 1"), "lake_hive"),
        (BigQueryInsertJobOperator({}), "google_cloud_default"),  # not a transfer: BigQuery runs it
        (SnowflakeOperator("SELECT 1"), "snowflake_default"),
    ],
    ids=lambda value: type(value).__name__ if not isinstance(value, str) else "",
)
def test_the_connection_reported_is_the_one_that_runs_the_work(task: Any, conn_id: str) -> None:
    assert read_task_try(TaskInstance(task), 1, "running").conn_id == conn_id
