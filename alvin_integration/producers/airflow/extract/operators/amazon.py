"""Amazon operators (S3, Redshift, Athena, transfers to S3): where their datasets are.

S3 objects are ``s3://<bucket>`` and the key (a key may also be a full ``s3://`` URL); Redshift
tables are ``redshift://<cluster>.<region>:5439`` and ``database.schema.table``; Athena's are
``awsathena://athena.<region>.amazonaws.com`` and ``catalog.database.table``. A region comes from
the operator's ``region_name`` or its AWS connection's extras, never from a default.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from alvin_integration.producers.airflow.extract.operators._base import (
    Context,
    Row,
    extra,
    in_bucket,
    object_name,
    prefix_name,
    url_dataset,
)

PROVIDER = "amazon"
REDSHIFT_PORT = 5439


def _region(ctx: Context, conn_attrs: Tuple[str, ...] = ("aws_conn_id", "_aws_conn_id")) -> Optional[str]:
    region = ctx.text("region_name", "region")
    if region:
        return region
    conn_id = ctx.text(*conn_attrs) or "aws_default"
    return extra(ctx.extras(conn_id), "region_name", "region")


def _s3(ctx: Context, output: bool, bucket_attr: str, key_attr: str, name_of: Any = None) -> None:
    dataset = in_bucket("s3", ctx.text(bucket_attr), ctx.get(key_attr), name_of or object_name)
    ctx.add(output, dataset, f"no bucket ({bucket_attr}) and {key_attr} is not an s3:// URL")


def _copy_object(ctx: Context) -> None:
    _s3(ctx, False, "source_bucket_name", "source_bucket_key")
    _s3(ctx, True, "dest_bucket_name", "dest_bucket_key")


def _create_object(ctx: Context) -> None:
    _s3(ctx, True, "s3_bucket", "s3_key")


def _file_transform(ctx: Context) -> None:
    _s3(ctx, False, "source_bucket", "source_s3_key")
    _s3(ctx, True, "dest_bucket", "dest_s3_key")


def _redshift_table(ctx: Context, output: bool) -> None:
    """``schema``.``table`` on the Redshift connection, or on the Data API's cluster."""
    table, schema = ctx.text("table"), ctx.text("schema")
    if not table:
        return
    api = ctx.get("redshift_data_api_kwargs")
    if isinstance(api, dict) and api:
        namespace = _data_api_namespace(ctx, api.get("cluster_identifier"), api.get("workgroup_name"))
        database = api.get("database")
        if namespace and database:
            name = ".".join(part.lower() for part in (database, schema or "public", table))
            ctx.add(output, (namespace, name))
        elif namespace:
            ctx.error(
                f"{'output' if output else 'input'} left out: {table}: no database in the Data API's kwargs"
            )
        return
    ctx.table(output, ctx.text("redshift_conn_id") or "redshift_default", table, schema=schema)


def _data_api_namespace(ctx: Context, cluster: Any, workgroup: Any) -> Optional[str]:
    if workgroup and not cluster:
        ctx.error(
            "tables left out: a Redshift Serverless workgroup is named by its account id: only AWS knows it"
        )
        return None
    if not cluster:
        ctx.error("tables left out: no cluster_identifier")
        return None
    region = _region(ctx)
    if not region:
        ctx.error("tables left out: no region (set region_name or the AWS connection's region_name)")
        return None
    return f"redshift://{cluster}.{region}:{REDSHIFT_PORT}"


def _s3_to_redshift(ctx: Context) -> None:
    _s3(ctx, False, "s3_bucket", "s3_key", prefix_name)
    _redshift_table(ctx, True)


def _s3_to_redshift_1_10(ctx: Context) -> None:
    """1.10's ``S3ToRedshiftTransfer`` copies from ``s3://<s3_bucket>/<s3_key>/<table>``."""
    key, table = ctx.text("s3_key"), ctx.text("table")
    if key is not None and table:
        dataset = in_bucket("s3", ctx.text("s3_bucket"), f"{key.rstrip('/')}/{table}", prefix_name)
        ctx.add(False, dataset, "no bucket (s3_bucket)")
    _redshift_table(ctx, True)


def _redshift_to_s3(ctx: Context) -> None:
    query = ctx.get("select_query")
    if query and not ctx.text("table"):
        ctx.sql(query, conn_id=ctx.text("redshift_conn_id") or "redshift_default")
    else:
        _redshift_table(ctx, False)
    key, table = ctx.get("s3_key"), ctx.text("table")
    suffix = f"/{table}_"  # execute's first step appends it (table_as_file_name): name START's prefix
    appended = ctx.at_end and table and ctx.get("table_as_file_name") is not False
    if appended and isinstance(key, str) and key.endswith(suffix):
        key = key[: -len(suffix)]
    ctx.add(True, in_bucket("s3", ctx.text("s3_bucket"), key, prefix_name), "no bucket (s3_bucket)")


def _redshift_data(ctx: Context) -> None:
    namespace = _data_api_namespace(ctx, ctx.text("cluster_identifier"), ctx.text("workgroup_name"))
    if namespace:
        ctx.sql(
            ctx.get("sql"),
            namespace=namespace,
            dialect="redshift",
            database=ctx.text("database"),
            schema="public",
            case="lower",
        )
    if ctx.at_end:
        ctx.query_id(ctx.get("statement_id"), "redshift")


def _redshift_sql(ctx: Context) -> None:
    ctx.sql(ctx.get("sql"), conn_id=ctx.text("redshift_conn_id", "conn_id") or "redshift_default")


def _athena(ctx: Context) -> None:
    region = _region(ctx)
    if not region:
        ctx.error("tables left out: no region (set region_name or the AWS connection's region_name)")
    else:
        ctx.sql(
            ctx.get("query"),
            namespace=f"awsathena://athena.{region}.amazonaws.com",
            dialect="athena",
            database=ctx.text("catalog") or "AwsDataCatalog",
            schema=ctx.text("database"),
            case="lower",
        )
    location = ctx.text("output_location")  # where Athena writes the query's results
    if location:
        ctx.add(True, url_dataset(location, prefix_name), f"{location}: not an s3:// URL")
    if ctx.at_end:
        ctx.query_id(ctx.get("query_execution_id"), "athena")


def _sql_to_s3(ctx: Context) -> None:
    ctx.sql(ctx.get("query"), conn_id=ctx.text("sql_conn_id"))
    _s3(ctx, True, "s3_bucket", "s3_key")


def _s3_to_sql(ctx: Context) -> None:
    _s3(ctx, False, "s3_bucket", "s3_key")
    ctx.table(True, ctx.text("sql_conn_id"), ctx.text("table"), schema=ctx.text("schema"))


def _gcs_to_s3(ctx: Context) -> None:
    bucket = ctx.text("gcs_bucket", "bucket")
    ctx.add(False, in_bucket("gs", bucket, ctx.text("prefix") or "", prefix_name), "no gcs_bucket")
    destination = ctx.text("dest_s3_key")
    ctx.add(
        True,
        url_dataset(destination, prefix_name) if destination else None,
        "dest_s3_key is not an s3:// URL",
    )


def _dynamodb_to_s3(ctx: Context) -> None:
    if ctx.text("dynamodb_table_name"):
        ctx.error("input left out: DynamoDB tables have no OpenLineage name (their ARN needs the account id)")
    _s3(ctx, True, "s3_bucket_name", "s3_key_prefix", prefix_name)


_S3 = "S3 `{}` / `{}`"
OPERATORS: Dict[str, Row] = {
    "S3CopyObjectOperator": Row(
        _S3.format("source_bucket_name", "source_bucket_key"),
        _S3.format("dest_bucket_name", "dest_bucket_key"),
        _copy_object,
    ),
    "S3CreateObjectOperator": Row("-", _S3.format("s3_bucket", "s3_key"), _create_object),
    "S3FileTransformOperator": Row("S3 `source_s3_key`", "S3 `dest_s3_key`", _file_transform),
    "S3ToRedshiftOperator": Row(
        _S3.format("s3_bucket", "s3_key"),
        "Redshift `schema`.`table` on `redshift_conn_id` (or the Data API's cluster)",
        _s3_to_redshift,
    ),
    "RedshiftToS3Operator": Row(
        "Redshift `schema`.`table` or the `select_query`'s tables on `redshift_conn_id`",
        _S3.format("s3_bucket", "s3_key"),
        _redshift_to_s3,
    ),
    "RedshiftDataOperator": Row(
        "the SQL's tables on `cluster_identifier` in the region", "the SQL's tables", _redshift_data
    ),
    "RedshiftSQLOperator": Row("the SQL's tables on `redshift_conn_id`", "the SQL's tables", _redshift_sql),
    "AthenaOperator": Row(
        "the query's tables in `catalog`.`database`",
        "the query's tables, S3 `output_location`",
        _athena,
    ),
    "SqlToS3Operator": Row(
        "the `query`'s tables on `sql_conn_id`", _S3.format("s3_bucket", "s3_key"), _sql_to_s3
    ),
    "S3ToSqlOperator": Row(
        _S3.format("s3_bucket", "s3_key"), "`schema`.`table` on `sql_conn_id`", _s3_to_sql
    ),
    "GCSToS3Operator": Row("GCS `gcs_bucket` / `prefix`", "S3 `dest_s3_key`", _gcs_to_s3),
    "DynamoDBToS3Operator": Row(
        "- (a DynamoDB table has no OpenLineage name)",
        _S3.format("s3_bucket_name", "s3_key_prefix"),
        _dynamodb_to_s3,
    ),
    # Airflow 1.10's classes (RedshiftToS3Transfer writes <s3_key>/<table>_..., as the provider's does)
    "S3ToRedshiftTransfer": Row(
        "S3 `s3_bucket` / `s3_key`/`table`",
        "Redshift `schema`.`table` on `redshift_conn_id`",
        _s3_to_redshift_1_10,
    ),
}
OPERATORS.update(
    {
        "RedshiftToS3Transfer": OPERATORS["RedshiftToS3Operator"],
        "AWSAthenaOperator": OPERATORS["AthenaOperator"],
        "GoogleCloudStorageToS3Operator": OPERATORS["GCSToS3Operator"],
    }
)
