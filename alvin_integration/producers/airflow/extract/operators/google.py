"""Google operators (GCS, BigQuery, Dataproc, transfers to GCS): where their datasets are.

GCS objects are ``gs://<bucket>`` and the object path (a wildcard path names its directory);
BigQuery tables are ``bigquery`` and ``project.dataset.table``, a table without its project in the
operator's ``project_id`` or its connection's project. The SQL of the SQL-to-GCS family runs on
its *source* connection (``postgres_conn_id``...), never on ``gcp_conn_id``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from alvin_integration.producers.airflow.extract.operators._base import (
    Context,
    Row,
    bigquery_table,
    each,
    extra,
    in_bucket,
    object_name,
    prefix_name,
    url_dataset,
)

PROVIDER = "google"
_GCP_CONN = ("gcp_conn_id", "google_cloud_storage_conn_id", "bigquery_conn_id")


def _project(ctx: Context) -> Optional[str]:
    """The operator's project, or its Google connection's."""
    project = ctx.text("project_id")
    if project:
        return project
    conn_id = ctx.text(*_GCP_CONN) or "google_cloud_default"
    return extra(ctx.extras(conn_id), "project", "project_id")


def _bq(ctx: Context, output: bool, table: Any, project: Optional[str]) -> None:
    dataset, why = bigquery_table(table, project)
    ctx.add(output, dataset, why)


def _bq_job_id(ctx: Context) -> None:
    if ctx.at_end:
        ctx.query_id(ctx.get("job_id"), "bigquery")


def _gcs_to_bigquery(ctx: Context) -> None:
    bucket = ctx.text("bucket")
    objects = ctx.texts("source_objects") or ["*"]
    for path in objects:
        ctx.add(False, in_bucket("gs", bucket, path), "no bucket")
    _bq(ctx, True, ctx.get("destination_project_dataset_table"), _project(ctx))
    _bq_job_id(ctx)


def _bigquery_to_gcs(ctx: Context) -> None:
    _bq(ctx, False, ctx.get("source_project_dataset_table"), _project(ctx))
    for uri in ctx.texts("destination_cloud_storage_uris"):
        ctx.add(True, url_dataset(uri), f"{uri}: not a gs:// URI")
    _bq_job_id(ctx)


def _bigquery_to_bigquery(ctx: Context) -> None:
    project = _project(ctx)
    for table in each(ctx.get("source_project_dataset_tables")):
        _bq(ctx, False, table, project)
    _bq(ctx, True, ctx.get("destination_project_dataset_table"), project)


def _gcs_to_gcs(ctx: Context) -> None:
    source_bucket = ctx.text("source_bucket")
    sources = ctx.texts("source_objects") or ctx.texts("source_object") or [""]
    for path in sources:
        ctx.add(False, in_bucket("gs", source_bucket, path), "no source bucket")
    destination_bucket = ctx.text("destination_bucket") or source_bucket
    destination = ctx.text("destination_object")
    # without a destination object, each object keeps its name in the destination bucket
    for path in [destination] if destination is not None else sources:
        ctx.add(True, in_bucket("gs", destination_bucket, path), "no destination bucket")


def _dict(value: Any) -> Dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _insert_job(ctx: Context) -> None:
    configuration = _dict(ctx.get("configuration"))
    project = _project(ctx)
    query = _dict(configuration.get("query"))
    if query:
        default = _dict(query.get("defaultDataset"))
        ctx.sql(
            query.get("query"),
            namespace="bigquery",
            dialect="bigquery",
            database=default.get("projectId") or project,
            schema=default.get("datasetId"),
        )
        if query.get("destinationTable"):
            _bq(ctx, True, query["destinationTable"], project)
    load = _dict(configuration.get("load"))
    if load:
        for uri in each(load.get("sourceUris")):
            ctx.add(False, url_dataset(str(uri)), f"{uri}: not a gs:// URI")
        _bq(ctx, True, load.get("destinationTable"), project)
    extract = _dict(configuration.get("extract"))
    if extract:
        _bq(ctx, False, extract.get("sourceTable") or extract.get("sourceModel"), project)
        for uri in each(extract.get("destinationUris")):
            ctx.add(True, url_dataset(str(uri)), f"{uri}: not a gs:// URI")
    copy = _dict(configuration.get("copy"))
    if copy:
        for table in each(copy.get("sourceTables") or copy.get("sourceTable")):
            _bq(ctx, False, table, project)
        _bq(ctx, True, copy.get("destinationTable"), project)
    _bq_job_id(ctx)


def _create_table(ctx: Context) -> None:
    reference = _dict(_dict(ctx.get("table_resource")).get("tableReference"))
    dataset = ctx.text("dataset_id") or reference.get("datasetId")
    table = ctx.text("table_id") or reference.get("tableId")
    project = ctx.text("project_id") or reference.get("projectId") or _project(ctx)
    if dataset and table:
        _bq(ctx, True, f"{dataset}.{table}", project)
    else:
        ctx.error("output left out: no dataset_id and table_id")


def _bigquery_sql(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), namespace="bigquery", dialect="bigquery", database=_project(ctx))


def _bigquery_query(ctx: Context) -> None:
    """The query's tables and its ``destination_dataset_table`` (1.10's ``BigQueryOperator`` and the
    google provider's ``BigQueryExecuteQueryOperator``, until it was removed)."""
    project = _project(ctx)
    sql = ctx.get("sql")
    legacy = ctx.get("use_legacy_sql") is not False  # both default to legacy SQL
    if legacy and "[" in str(sql):  # [project:dataset.table]: a name standard SQL does not read
        ctx.error("tables left out of the query: legacy SQL's [project:dataset.table] (use_legacy_sql=False)")
    else:
        ctx.sql(sql, namespace="bigquery", dialect="bigquery", database=project)
    if ctx.get("destination_dataset_table"):
        _bq(ctx, True, ctx.get("destination_dataset_table"), project)
    _bq_job_id(ctx)


def _bigquery_table_check(ctx: Context) -> None:
    _bq(ctx, False, ctx.get("table"), _project(ctx))


def _local_to_gcs(ctx: Context) -> None:
    for path in ctx.texts("src"):
        ctx.add(
            False,
            ("file", object_name(path)) if path.startswith("/") else None,
            f"{path}: not an absolute path",
        )
    ctx.add(True, in_bucket("gs", ctx.text("bucket"), ctx.text("dst") or ""), "no bucket")


def _sql_to_gcs(conn_attr: str, default_conn: str) -> Any:
    def extract(ctx: Context) -> None:
        ctx.sql(ctx.get("sql"), conn_id=ctx.text(conn_attr) or default_conn)
        filename = (ctx.text("filename") or "").split("{}", 1)[0]  # {} is the file's number
        ctx.add(True, in_bucket("gs", ctx.text("bucket"), filename), "no bucket")

    return extract


def _s3_to_gcs(ctx: Context) -> None:
    ctx.add(False, in_bucket("s3", ctx.text("bucket"), ctx.text("prefix") or "", prefix_name), "no S3 bucket")
    destination = ctx.text("dest_gcs")
    ctx.add(True, url_dataset(destination, prefix_name) if destination else None, "no dest_gcs")


def _dataproc(ctx: Context) -> None:
    job = _dict(ctx.get("job"))
    cluster = _dict(job.get("placement")).get("cluster_name")
    for kind, scheme, port in (
        ("hive_job", "hive", 9083),
        ("spark_sql_job", "hive", 9083),
        ("presto_job", "presto", 8060),
        ("trino_job", "trino", 8060),
    ):
        spec = _dict(job.get(kind))
        if not spec:
            continue
        queries = _dict(spec.get("query_list")).get("queries")
        if not queries:
            if spec.get("query_file_uri"):
                ctx.error(f"tables left out: the {kind}'s query is in a file ({spec['query_file_uri']})")
            continue
        metastore = str(_dict(spec.get("properties")).get("hive.metastore.uris") or "")
        if scheme == "hive" and metastore:  # thrift://host:port[,thrift://...]
            where = metastore.split(",", 1)[0].split("://", 1)[-1]
        elif cluster:  # Dataproc's own metastore and engines run on the cluster's master, <cluster>-m
            where = f"{cluster}-m:{port}"
        else:
            ctx.error(f"tables left out: the {kind} names no cluster (placement.cluster_name)")
            continue
        two_parts = scheme == "hive"
        ctx.sql(
            queries,
            namespace=f"{scheme}://{where}",
            dialect="hive" if two_parts else "trino",
            database="default" if two_parts else None,
            name_parts=2 if two_parts else 3,
            case="lower",
        )


_SQL = "the SQL's tables on {}"
_BQ = "BigQuery table {}"
OPERATORS: Dict[str, Row] = {
    "GCSToBigQueryOperator": Row(
        "GCS `bucket` / `source_objects`", _BQ.format("`destination_project_dataset_table`"), _gcs_to_bigquery
    ),
    "BigQueryToGCSOperator": Row(
        _BQ.format("`source_project_dataset_table`"), "GCS `destination_cloud_storage_uris`", _bigquery_to_gcs
    ),
    "BigQueryToBigQueryOperator": Row(
        _BQ.format("`source_project_dataset_tables`"),
        _BQ.format("`destination_project_dataset_table`"),
        _bigquery_to_bigquery,
    ),
    "GCSToGCSOperator": Row(
        "GCS `source_bucket` / `source_object(s)`",
        "GCS `destination_bucket` / `destination_object`",
        _gcs_to_gcs,
    ),
    "BigQueryInsertJobOperator": Row(
        "query: the SQL's tables; load: `sourceUris`; extract: `sourceTable`; copy: `sourceTables`",
        "query: the SQL's tables, `destinationTable`; load, copy: `destinationTable`; "
        "extract: `destinationUris`",
        _insert_job,
    ),
    "BigQueryCreateTableOperator": Row("-", _BQ.format("`dataset_id`.`table_id`"), _create_table),
    "BigQueryCreateEmptyTableOperator": Row("-", _BQ.format("`dataset_id`.`table_id`"), _create_table),
    "BigQueryCheckOperator": Row(_SQL.format("BigQuery"), "-", _bigquery_sql),
    "BigQueryValueCheckOperator": Row(_SQL.format("BigQuery"), "-", _bigquery_sql),
    "BigQueryIntervalCheckOperator": Row(_BQ.format("`table`"), "-", _bigquery_table_check),
    "BigQueryColumnCheckOperator": Row(_BQ.format("`table`"), "-", _bigquery_table_check),
    "BigQueryTableCheckOperator": Row(_BQ.format("`table`"), "-", _bigquery_table_check),
    "LocalFilesystemToGCSOperator": Row("local file `src` (`file`)", "GCS `bucket` / `dst`", _local_to_gcs),
    "PostgresToGCSOperator": Row(
        _SQL.format("`postgres_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("postgres_conn_id", "postgres_default"),
    ),
    "MySQLToGCSOperator": Row(
        _SQL.format("`mysql_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("mysql_conn_id", "mysql_default"),
    ),
    "MSSQLToGCSOperator": Row(
        _SQL.format("`mssql_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("mssql_conn_id", "mssql_default"),
    ),
    "OracleToGCSOperator": Row(
        _SQL.format("`oracle_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("oracle_conn_id", "oracle_default"),
    ),
    "TrinoToGCSOperator": Row(
        _SQL.format("`trino_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("trino_conn_id", "trino_default"),
    ),
    "PrestoToGCSOperator": Row(
        _SQL.format("`presto_conn_id`"),
        "GCS `bucket` / `filename`",
        _sql_to_gcs("presto_conn_id", "presto_default"),
    ),
    "S3ToGCSOperator": Row("S3 `bucket` / `prefix`", "GCS `dest_gcs`", _s3_to_gcs),
    "DataprocSubmitJobOperator": Row(
        "a Hive, Spark SQL, Presto or Trino job's query's tables (the cluster's metastore)",
        "the query's tables",
        _dataproc,
    ),
    "BigQueryExecuteQueryOperator": Row(
        "the SQL's tables (standard SQL)", _BQ.format("`destination_dataset_table`"), _bigquery_query
    ),
}
# Airflow 1.10's contrib classes (the same arguments under their old names): the same rows
OPERATORS.update(
    {
        "GoogleCloudStorageToBigQueryOperator": OPERATORS["GCSToBigQueryOperator"],
        "BigQueryToCloudStorageOperator": OPERATORS["BigQueryToGCSOperator"],
        "GoogleCloudStorageToGoogleCloudStorageOperator": OPERATORS["GCSToGCSOperator"],
        "BigQueryOperator": OPERATORS["BigQueryExecuteQueryOperator"],
        "FileToGoogleCloudStorageOperator": OPERATORS["LocalFilesystemToGCSOperator"],
        "PostgresToGoogleCloudStorageOperator": OPERATORS["PostgresToGCSOperator"],
        "MySqlToGoogleCloudStorageOperator": OPERATORS["MySQLToGCSOperator"],
        "MsSqlToGoogleCloudStorageOperator": OPERATORS["MSSQLToGCSOperator"],
        "S3ToGoogleCloudStorageOperator": OPERATORS["S3ToGCSOperator"],
    }
)
