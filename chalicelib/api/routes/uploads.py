"""/v1/uploads: presigned direct-to-storage uploads (single PUT, or multipart for large files)."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from botocore.exceptions import ClientError
from chalice import Blueprint

from ...data import storage
from ...data.models import Upload, utcnow
from ...data.uploads import ROW_TTL, discard_upload
from ...settings import get_settings
from ...shapes import upload_out
from ..errors import ApiError
from ..loaders import load_upload, new_id
from ..routing import Call, Reply, api_route
from ..schemas import UploadComplete, UploadCreate, UploadOut, UploadPart

bp = Blueprint(__name__)
TAG = "uploads"
MAX_PARTS = 10_000


def safe_object_name(filename: str) -> str:
    """The filename as used in the object key: [A-Za-z0-9._-] only, at most 100 characters."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "upload"
    if len(name) > 100:
        stem, dot, ext = name.rpartition(".")
        name = stem[:90] + "." + ext if dot and len(ext) <= 9 else name[:100]
    return name


def _mark_uploaded(upload: Upload, size: int) -> None:
    """Mark the upload uploaded if `size` is the declared size; else delete the object and answer 422."""
    if size != int(upload.size):
        storage.delete_prefix(upload.key)
        raise ApiError(422, "size_mismatch",
                       f"The uploaded file has {size} bytes, not the declared {int(upload.size)}.")
    upload.update(actions=[Upload.status.set("uploaded")])


def finish_single_put(upload: Upload) -> bool:
    """Mark a single-PUT upload uploaded if its object is there (True), else False."""
    size = storage.object_size(upload.key)
    if size is None:
        return False
    _mark_uploaded(upload, size)
    return True


@api_route(bp, "/v1/uploads", "POST", status=201, summary="Start an upload of a local file", tag=TAG,
           request=UploadCreate, response=UploadOut, errors=(400, 413, 415, 422))
def create_upload(call: Call) -> Reply:
    """A presigned PUT URL (or one per part, multipart) under the caller's uploads/ prefix."""
    body: UploadCreate = call.body
    settings = get_settings()
    if body.size > settings.upload_max_bytes:
        raise ApiError(413, "file_too_large", f"Files up to {settings.upload_max_bytes} bytes are accepted.",
                       param="size")
    upload_id = new_id("upl_")
    key = storage.upload_key(call.principal.tenant, upload_id, safe_object_name(body.filename))
    expiry = settings.presign_expiry_seconds
    expires_at = utcnow() + timedelta(seconds=expiry)
    client = storage.s3_client()
    upload = Upload(upload_id, tenant=call.principal.tenant, key=key, filename=body.filename,
                    content_type=body.content_type, size=body.size, status="pending",
                    expires_at=utcnow() + ROW_TTL)
    url: str | None = None
    parts: list[UploadPart] | None = None
    if body.size <= settings.upload_part_bytes:
        url = client.generate_presigned_url(
            "put_object",
            Params={"Bucket": storage.bucket(), "Key": key, "ContentType": body.content_type,
                    "ContentLength": body.size},
            ExpiresIn=expiry,
        )
    else:
        part_size = max(settings.upload_part_bytes, math.ceil(body.size / MAX_PARTS))
        created = client.create_multipart_upload(Bucket=storage.bucket(), Key=key, ContentType=body.content_type)
        upload.multipart_upload_id = created["UploadId"]
        upload.part_size = part_size
        parts = []
        for number in range(1, math.ceil(body.size / part_size) + 1):
            size = min(part_size, body.size - (number - 1) * part_size)
            part_url = client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": storage.bucket(), "Key": key, "UploadId": created["UploadId"],
                        "PartNumber": number, "ContentLength": size},
                ExpiresIn=expiry,
            )
            parts.append(UploadPart(part_number=number, size=size, upload_url=part_url))
    upload.save(condition=Upload.upload_id.does_not_exist())
    return Reply(201, upload_out(upload, upload_url=url, parts=parts, expires_at=expires_at))


@api_route(bp, "/v1/uploads/{upload_id}/complete", "POST", summary="Finish an upload", tag=TAG,
           request=UploadComplete, response=UploadOut, errors=(400, 404, 409, 413, 415, 422))
def complete_upload(call: Call) -> Reply:
    """Multipart: assemble the parts from their ETags. Single PUT: confirm the object arrived."""
    body: UploadComplete = call.body
    upload = load_upload(call.principal.tenant, call.params["upload_id"])
    if upload.status == "consumed":
        raise ApiError(409, "upload_consumed", "This upload already belongs to a project.")
    if upload.status == "uploaded":
        return Reply(200, upload_out(upload))
    if upload.multipart_upload_id is None:
        if body.parts:
            raise ApiError(422, "invalid_field", "This upload is a single PUT; send no parts.", param="parts")
        if not finish_single_put(upload):
            raise ApiError(409, "upload_incomplete", "Nothing has been uploaded to the upload URL yet.")
        return Reply(200, upload_out(upload))
    if not body.parts:
        raise ApiError(422, "missing_field", "List every part's part_number and etag.", param="parts")
    numbers = [p.part_number for p in body.parts]
    if numbers != sorted(set(numbers)):
        raise ApiError(422, "invalid_field", "Parts must be in ascending order without repeats.", param="parts")
    try:
        storage.s3_client().complete_multipart_upload(
            Bucket=storage.bucket(), Key=upload.key, UploadId=upload.multipart_upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in body.parts]},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload", "MalformedXML"}:
            raise ApiError(422, "invalid_parts", f"The parts could not be assembled ({code}).", param="parts") from None
        raise
    _mark_uploaded(upload, storage.object_size(upload.key) or 0)
    return Reply(200, upload_out(upload))


@api_route(bp, "/v1/uploads/{upload_id}", "DELETE", status=204, summary="Delete an upload no project uses", tag=TAG,
           errors=(400, 404, 409))
def delete_upload(call: Call) -> Reply:
    """Delete the stored file (or abort the multipart upload) and the upload; 409 once a project uses it."""
    upload = load_upload(call.principal.tenant, call.params["upload_id"])
    if not discard_upload(upload):
        raise ApiError(409, "upload_consumed", "This upload belongs to a project; delete the project instead.")
    return Reply(204)
