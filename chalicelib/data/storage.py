"""Object storage on S3 or any S3-compatible store (Cloudflare R2 in production) through boto3.

Objects live under per-tenant prefixes and are never public; callers get SigV4 presigned URLs.
Key layout (one function per kind of key below, so no caller builds keys by hand):

    uploads/<account>/<mode>/<upload_id>/<filename>        (until a project's ingest moves it to source/)
    accounts/<account>/<mode>/projects/<project_id>/source/<filename>
    accounts/<account>/<mode>/projects/<project_id>/transcript.json
    accounts/<account>/<mode>/projects/<project_id>/work/<name>          (stage outputs)
    accounts/<account>/<mode>/projects/<project_id>/clips/<clip_id>/<W>x<H>.mp4
    accounts/<account>/<mode>/projects/<project_id>/clips/<clip_id>/thumbnail.jpg
    accounts/<account>/<mode>/projects/<project_id>/clips/<clip_id>/v<N>/<W>x<H>.mp4    (edited versions, N >= 2)
    accounts/<account>/<mode>/projects/<project_id>/clips/<clip_id>/v<N>/thumbnail.jpg
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from ..settings import get_settings


def tenant_prefix(tenant: str) -> str:
    account_id, mode = tenant.split("#", 1)
    return f"accounts/{account_id}/{mode}/"


# Uploads live under one bucket-wide prefix that a lifecycle rule empties after UPLOAD_OBJECT_DAYS: an upload
# no project used loses its object even if the sweeper never runs. Ingest moves a used upload to the project's
# source/ key, out of the rule's reach. Prefix rules work on S3 and R2 alike (R2 has no tag filters).
UPLOADS_PREFIX = "uploads/"
UPLOAD_OBJECT_DAYS = 3


def upload_key(tenant: str, upload_id: str, filename: str) -> str:
    return f"{UPLOADS_PREFIX}{tenant_prefix(tenant).removeprefix('accounts/')}{upload_id}/{Path(filename).name}"


def uploads_lifecycle_rule() -> dict[str, Any]:
    """The bucket lifecycle rule (S3 API shape) that expires objects under UPLOADS_PREFIX."""
    return {"ID": "expire-unused-uploads", "Status": "Enabled", "Filter": {"Prefix": UPLOADS_PREFIX},
            "Expiration": {"Days": UPLOAD_OBJECT_DAYS}}


def project_prefix(tenant: str, project_id: str) -> str:
    return f"{tenant_prefix(tenant)}projects/{project_id}/"


def source_key(tenant: str, project_id: str, filename: str) -> str:
    return f"{project_prefix(tenant, project_id)}source/{Path(filename).name}"


def transcript_key(tenant: str, project_id: str) -> str:
    return f"{project_prefix(tenant, project_id)}transcript.json"


def work_key(tenant: str, project_id: str, name: str) -> str:
    return f"{project_prefix(tenant, project_id)}work/{name}"


def clip_prefix(tenant: str, project_id: str, clip_id: str, version: int | None = None) -> str:
    """A clip's objects; versions after the first (edits, manual clips) live under v<N>/ beside it."""
    base = f"{project_prefix(tenant, project_id)}clips/{clip_id}/"
    return base if not version or version <= 1 else f"{base}v{int(version)}/"


def clip_video_key(tenant: str, project_id: str, clip_id: str, width: int, height: int,
                   version: int | None = None) -> str:
    return f"{clip_prefix(tenant, project_id, clip_id, version)}{width}x{height}.mp4"


def clip_thumbnail_key(tenant: str, project_id: str, clip_id: str, version: int | None = None) -> str:
    return f"{clip_prefix(tenant, project_id, clip_id, version)}thumbnail.jpg"


@functools.lru_cache(maxsize=1)
def s3_client() -> Any:
    """The boto3 S3 client for the configured endpoint (lazy, cached)."""
    settings = get_settings()
    kwargs: dict[str, Any] = {
        "region_name": settings.s3_region if settings.s3_endpoint_url else settings.aws_region,
        "config": Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    }
    if settings.s3_endpoint_url:
        kwargs["endpoint_url"] = settings.s3_endpoint_url
    if settings.s3_access_key_id:
        kwargs["aws_access_key_id"] = settings.s3_access_key_id
        kwargs["aws_secret_access_key"] = settings.s3_secret_access_key
    return boto3.client("s3", **kwargs)


def bucket() -> str:
    return get_settings().bucket


def put_file(key: str, path: str | Path, content_type: str | None = None) -> None:
    extra = {"ContentType": content_type} if content_type else None
    s3_client().upload_file(str(path), bucket(), key, ExtraArgs=extra)


def get_file(key: str, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    s3_client().download_file(bucket(), key, str(path))
    return path


def put_json(key: str, data: Any) -> None:
    body = json.dumps(data, separators=(",", ":")).encode()
    s3_client().put_object(Bucket=bucket(), Key=key, Body=body, ContentType="application/json")


def get_json(key: str) -> Any:
    return json.loads(s3_client().get_object(Bucket=bucket(), Key=key)["Body"].read())


def object_size(key: str) -> int | None:
    """The object's size in bytes, or None when there is no such object."""
    try:
        head = s3_client().head_object(Bucket=bucket(), Key=key)
    except s3_client().exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    return int(head["ContentLength"])


def exists(key: str) -> bool:
    return object_size(key) is not None


def presign_get(key: str, expires_in: int | None = None, filename: str | None = None) -> str:
    params: dict[str, Any] = {"Bucket": bucket(), "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return s3_client().generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires_in or get_settings().presign_expiry_seconds
    )


def delete_prefix(prefix: str) -> int:
    """Delete every object under `prefix`; returns how many were deleted."""
    client = s3_client()
    deleted = 0
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket(), Prefix=prefix):
        objects = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if objects:
            client.delete_objects(Bucket=bucket(), Delete={"Objects": objects, "Quiet": True})
            deleted += len(objects)
    return deleted


def copy_object(src: str, dst: str) -> None:
    """Copy `src` to `dst` inside the bucket (server side; multipart copy for big objects)."""
    s3_client().copy({"Bucket": bucket(), "Key": src}, bucket(), dst)


def list_keys(prefix: str) -> list[str]:
    paginator = s3_client().get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket=bucket(), Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]
