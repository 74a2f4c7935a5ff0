"""The google and snowflake providers' real operators, with connections that point nowhere.

Each task fails before it reaches Google or Snowflake (a key file that does not exist): what it
would touch must be on its START, its FAIL must still arrive, and the BigQuery job id the operator
set before it failed must be read back. Connections: tests/vendors/test_vendor_operators.py.
"""

from datetime import datetime

from airflow import DAG
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator

with DAG("alvin_vendors", start_date=datetime(2026, 11, 1), schedule=None, catchup=False) as dag:
    BigQueryInsertJobOperator(
        task_id="bigquery_job",
        gcp_conn_id="alvin_bigquery",
        project_id="job-project",
        configuration={
            "query": {
                "query": "INSERT INTO sales.daily (day, total) "
                "SELECT day, SUM(amount) AS total FROM raw.orders GROUP BY day",
                "useLegacySql": False,
            }
        },
    )
    BigQueryInsertJobOperator(  # the project comes from the connection
        task_id="bigquery_job_connection_project",
        gcp_conn_id="alvin_bigquery",
        configuration={"query": {"query": "SELECT * FROM raw.customers", "useLegacySql": False}},
    )
    SQLExecuteQueryOperator(
        task_id="snowflake_query",
        conn_id="alvin_snowflake",
        sql="INSERT INTO marts.orders SELECT id, amount FROM raw.orders WHERE amount > %(min)s",
        parameters={"min": 0},
    )
