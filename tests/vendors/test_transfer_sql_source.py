"""The google provider's real PostgresToGCSOperator: its SQL's tables are named from Postgres, not GCP.

Before, its SQL was named from its ``gcp_conn_id`` (the destination): a phantom BigQuery table
``acme-prod.raw.customers`` reached the lineage graph. Nothing connects: the connections are read
from the environment as hooks read them, never opened.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Iterator

import pytest

from alvin_integration.producers.airflow.extract import task_lineage
from alvin_integration.producers.airflow.extract.task_lineage import lineage_of
from alvin_integration.producers.airflow.read import read_task_try
from tests.support.skips import needs_sql_extra

transfers = pytest.importorskip(
    "airflow.providers.google.cloud.transfers.postgres_to_gcs", reason="the google and postgres providers"
)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_POSTGRES", "postgres://reader:pw@shop-db/shop")
    monkeypatch.setenv(
        "AIRFLOW_CONN_ACME_GCP",
        json.dumps({"conn_type": "google_cloud_platform", "extra": {"project": "acme-prod"}}),
    )
    task_lineage._sources.clear()
    yield
    task_lineage._sources.clear()


@needs_sql_extra
def test_postgres_to_gcs_names_its_sql_tables_from_the_postgres_connection(connections: None) -> None:
    task = transfers.PostgresToGCSOperator(
        task_id="export_customers",
        postgres_conn_id="shop_postgres",
        gcp_conn_id="acme_gcp",
        sql="SELECT * FROM raw.customers",
        bucket="acme-exports",
        filename="customers/{}.json",
    )
    ti = SimpleNamespace(task=task, dag_id="dag", task_id=task.task_id, run_id="run", map_index=-1)
    task_try = read_task_try(ti, 1, "running")
    found = lineage_of(task_try, start_wait=60)
    assert task_try.conn_id == "shop_postgres"
    assert [(d.namespace, d.name) for d in found.inputs] == [
        ("postgres://shop-db:5432", "shop.raw.customers")
    ]
    assert all(d.namespace != "bigquery" for d in found.inputs + found.outputs)
