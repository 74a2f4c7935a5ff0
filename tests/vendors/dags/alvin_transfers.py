"""The everyday operators of issue 25, with real arguments and connections that point nowhere.

Google and Snowflake fail on a key file that does not exist, AWS on an endpoint at 127.0.0.1
(closed port, one attempt, 1 s timeouts), Postgres and Redshift on closed ports of 127.0.0.1:
every task fails as its ``execute`` starts, without network. What each would touch must be on its
START and its FAIL, and nothing else. Connections: tests/vendors/test_transfers_dag.py.
"""

from datetime import datetime

from airflow import DAG
from airflow.providers.amazon.aws.operators.athena import AthenaOperator
from airflow.providers.amazon.aws.operators.s3 import S3CopyObjectOperator
from airflow.providers.amazon.aws.transfers.redshift_to_s3 import RedshiftToS3Operator
from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator
from airflow.providers.amazon.aws.transfers.sql_to_s3 import SqlToS3Operator
from airflow.providers.common.sql.operators.sql import (
    SQLColumnCheckOperator,
    SQLExecuteQueryOperator,
    SQLTableCheckOperator,
)
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
from airflow.providers.google.cloud.transfers.bigquery_to_bigquery import BigQueryToBigQueryOperator
from airflow.providers.google.cloud.transfers.bigquery_to_gcs import BigQueryToGCSOperator
from airflow.providers.google.cloud.transfers.gcs_to_bigquery import GCSToBigQueryOperator
from airflow.providers.google.cloud.transfers.gcs_to_gcs import GCSToGCSOperator
from airflow.providers.google.cloud.transfers.postgres_to_gcs import PostgresToGCSOperator
from airflow.providers.snowflake.transfers.copy_into_snowflake import CopyFromExternalStageToSnowflakeOperator

GCP, AWS, PG, REDSHIFT, SNOWFLAKE = "alvin_gcp", "alvin_aws", "alvin_pg", "alvin_redshift", "alvin_snowflake"

with DAG("alvin_transfers", start_date=datetime(2026, 11, 1), schedule=None, catchup=False) as dag:
    # Google
    GCSToBigQueryOperator(
        task_id="gcs_to_bigquery",
        gcp_conn_id=GCP,
        bucket="acme-landing",
        source_objects=["orders/{{ ds }}/*.csv"],
        destination_project_dataset_table="sales.orders",
        schema_fields=[
            {"name": "id", "type": "INTEGER"},
            {"name": "amount", "type": "NUMERIC"},
        ],
        source_format="CSV",
        skip_leading_rows=1,
        write_disposition="WRITE_APPEND",
    )
    BigQueryToGCSOperator(
        task_id="bigquery_to_gcs",
        gcp_conn_id=GCP,
        source_project_dataset_table="acme-prod.sales.orders",
        destination_cloud_storage_uris=["gs://acme-exports/orders/{{ ds }}/part-*.csv"],
        export_format="CSV",
    )
    GCSToGCSOperator(
        task_id="gcs_to_gcs",
        gcp_conn_id=GCP,
        source_bucket="acme-landing",
        source_object="orders/{{ ds }}/orders.csv",
        destination_bucket="acme-archive",
        destination_object="orders/{{ ds }}/orders.csv",
    )
    BigQueryToBigQueryOperator(
        task_id="bigquery_to_bigquery",
        gcp_conn_id=GCP,
        source_project_dataset_tables="sales.orders",
        destination_project_dataset_table="backup.orders",
        write_disposition="WRITE_TRUNCATE",
    )
    BigQueryInsertJobOperator(
        task_id="bigquery_query",
        gcp_conn_id=GCP,
        configuration={
            "query": {
                "query": "INSERT INTO marts.daily_revenue (day, revenue) "
                "SELECT DATE(created_at), SUM(amount) FROM sales.orders GROUP BY 1",
                "useLegacySql": False,
            }
        },
    )
    PostgresToGCSOperator(
        task_id="postgres_to_gcs",
        postgres_conn_id=PG,
        gcp_conn_id=GCP,
        sql="SELECT * FROM raw.customers",
        bucket="acme-exports",
        filename="customers/{{ ds }}/part-{}.json",
        export_format="json",
    )

    # common-sql on Postgres
    SQLExecuteQueryOperator(
        task_id="postgres_insert",
        conn_id=PG,
        sql="INSERT INTO marts.customer_orders (customer_id, name, total) "
        "SELECT c.id, c.name, SUM(o.amount) FROM raw.customers c "
        "JOIN raw.orders o ON o.customer_id = c.id GROUP BY c.id, c.name",
    )
    SQLColumnCheckOperator(
        task_id="column_check",
        conn_id=PG,
        table="marts.customer_orders",
        column_mapping={"total": {"min": {"geq_to": 0}, "null_check": {"equal_to": 0}}},
    )
    SQLTableCheckOperator(
        task_id="table_check",
        conn_id=PG,
        table="raw.orders",
        checks={"row_count_check": {"check_statement": "COUNT(*) > 0"}},
    )

    # Amazon
    S3CopyObjectOperator(
        task_id="s3_copy",
        aws_conn_id=AWS,
        source_bucket_name="acme-landing",
        source_bucket_key="events/{{ ds }}/events.json",
        dest_bucket_name="acme-archive",
        dest_bucket_key="events/{{ ds }}/events.json",
    )
    S3ToRedshiftOperator(
        task_id="s3_to_redshift",
        aws_conn_id=AWS,
        redshift_conn_id=REDSHIFT,
        s3_bucket="acme-landing",
        s3_key="events/{{ ds }}/",
        schema="raw",
        table="events",
        copy_options=["FORMAT AS JSON 'auto'"],
    )
    RedshiftToS3Operator(
        task_id="redshift_to_s3",
        aws_conn_id=AWS,
        redshift_conn_id=REDSHIFT,
        schema="marts",
        table="sessions",
        s3_bucket="acme-exports",
        s3_key="sessions/{{ ds }}/",
        unload_options=["PARQUET"],
    )
    AthenaOperator(
        task_id="athena_query",
        aws_conn_id=AWS,
        database="web",
        query="INSERT INTO daily_visits SELECT day, COUNT(*) FROM page_views GROUP BY day",
        output_location="s3://acme-athena-results/queries/",
        sleep_time=1,
    )
    SqlToS3Operator(
        task_id="sql_to_s3",
        aws_conn_id=AWS,
        sql_conn_id=PG,
        query="SELECT id, amount FROM raw.orders",
        s3_bucket="acme-exports",
        s3_key="orders/{{ ds }}/orders.csv",
        file_format="csv",
        replace=True,
    )

    # Snowflake
    CopyFromExternalStageToSnowflakeOperator(
        task_id="snowflake_copy",
        snowflake_conn_id=SNOWFLAKE,
        stage="raw.landing_stage",
        prefix="events/",
        file_format="(TYPE = JSON)",
        schema="RAW",
        table="EVENTS",
    )
