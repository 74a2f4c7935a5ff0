"""BigQuery and Snowflake operators, in the shapes the providers give them: no call to Google or Snowflake.

The classes below carry the attributes the real operators carry (their names are what the lineage
code looks at); the e2e rows do not install the google and snowflake providers.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from alvin_integration.producers.airflow.extract import task_lineage
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
    task._hook = SnowflakeHook()  # type: ignore[attr-defined]
    task._hook.query_ids.extend(["01b2-q1", "01b2-q2"])  # type: ignore[attr-defined]
    end = read_task_try(TaskInstance(task), 1, "success")
    assert end.external_ids["query_ids"] == ["01b2-q1", "01b2-q2"]
    query = lineage_of(end, at_end=True).run_facets["externalQuery"].to_dict()
    assert (query["externalQueryId"], query["source"]) == ("01b2-q1", "snowflake")
