"""SFTP/FTP transfers: where their datasets are.

A remote file is ``file://<host>`` and its path (OpenLineage's remote file system naming), the host
from the operator's ``sftp_remote_host`` or its SFTP/FTP connection; buckets as their own families
name them.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from alvin_integration.producers.airflow.extract.operators._base import (
    Context,
    Row,
    in_bucket,
    object_name,
    url_dataset,
)

PROVIDER = "sftp"


def _remote_file(
    ctx: Context, conn_attr: str, default_conn: str, path: Optional[str]
) -> Optional[Tuple[str, str]]:
    if not path:
        return None
    host = ctx.text("sftp_remote_host", "remote_host")
    if not host:
        conn = ctx.connection(ctx.text(conn_attr) or default_conn)
        host = getattr(conn, "host", None) if conn is not None else None
    if not isinstance(host, str) or not host:
        return None
    name = object_name(path)
    return f"file://{host}", name if name == "/" else "/" + name


def _sftp_to_s3(ctx: Context) -> None:
    path = ctx.text("sftp_path")
    ctx.add(False, _remote_file(ctx, "sftp_conn_id", "ssh_default", path), f"{path}: no SFTP host")
    ctx.add(True, in_bucket("s3", ctx.text("s3_bucket"), ctx.get("s3_key")), "no s3_bucket")


def _s3_to_sftp(ctx: Context) -> None:
    ctx.add(False, in_bucket("s3", ctx.text("s3_bucket"), ctx.get("s3_key")), "no s3_bucket")
    path = ctx.text("sftp_path")
    ctx.add(True, _remote_file(ctx, "sftp_conn_id", "ssh_default", path), f"{path}: no SFTP host")


def _sftp_to_gcs(ctx: Context) -> None:
    path = ctx.text("source_path")
    ctx.add(False, _remote_file(ctx, "sftp_conn_id", "ssh_default", path), f"{path}: no SFTP host")
    destination = ctx.text("destination_path") or path or ""  # without one, the object keeps the path
    bucket = ctx.text("destination_bucket")
    dataset = url_dataset(destination) if "://" in destination else in_bucket("gs", bucket, destination)
    ctx.add(True, dataset, "no destination_bucket")


OPERATORS: Dict[str, Row] = {
    "SFTPToS3Operator": Row("`file://<host>` `sftp_path`", "S3 `s3_bucket` / `s3_key`", _sftp_to_s3),
    "S3ToSFTPOperator": Row("S3 `s3_bucket` / `s3_key`", "`file://<host>` `sftp_path`", _s3_to_sftp),
    "SFTPToGCSOperator": Row(
        "`file://<host>` `source_path`", "GCS `destination_bucket` / `destination_path`", _sftp_to_gcs
    ),
}
