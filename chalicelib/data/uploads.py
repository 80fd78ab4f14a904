"""Removing an upload that no project uses: its stored object (or unfinished multipart upload) and its row."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError

from . import storage
from .models import Upload

# An upload no project has used this long after its creation loses its object and row (the sweeper).
UNUSED_LIFETIME = timedelta(days=2)
# The row's DynamoDB TTL comes later than that, so the sweeper always sees the row it must clean up after;
# the bucket's lifecycle rule removes a forgotten object at the same age (storage.UPLOAD_OBJECT_DAYS).
ROW_TTL = timedelta(days=storage.UPLOAD_OBJECT_DAYS)
if UNUSED_LIFETIME + timedelta(days=1) > ROW_TTL:
    raise ImportError("uploads must outlive UNUSED_LIFETIME by a day before the lifecycle rule removes them")


def discard_upload(upload: Upload) -> bool:
    """Delete an unconsumed upload's object(s) and row; False (nothing touched) if a project has it."""
    if upload.status == "consumed":
        return False
    try:  # first the row, on the condition that no project claimed it meanwhile
        upload.delete(condition=Upload.status != "consumed")
    except DeleteError:
        return False
    if upload.multipart_upload_id:
        with contextlib.suppress(ClientError):  # already completed or aborted
            storage.s3_client().abort_multipart_upload(
                Bucket=storage.bucket(), Key=upload.key, UploadId=upload.multipart_upload_id
            )
    storage.delete_prefix(upload.key.rsplit("/", 1)[0] + "/")
    return True


def sweep_unused_uploads(now: datetime) -> list[str]:
    """Discard every upload created more than UNUSED_LIFETIME before `now` that no project used."""
    cutoff = now - UNUSED_LIFETIME
    swept: list[str] = []
    for upload in Upload.scan((Upload.status != "consumed") & (Upload.created_at < cutoff)):
        if discard_upload(upload):
            swept.append(upload.upload_id)
    return swept
