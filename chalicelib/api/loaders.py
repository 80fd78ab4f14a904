"""Tenant-scoped row loading: anything missing or owned by another tenant is the same 404."""

from __future__ import annotations

import secrets
import string

from ..data.models import Clip, Project, Upload
from .errors import ApiError

_ALNUM = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """An opaque id like proj_Ab3…: unguessable (≈143 bits), valid as a Step Functions execution name."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def _missing(kind: str, ident: str, param: str | None = None) -> ApiError:
    return ApiError(404, "resource_missing", f"No such {kind}: {ident[:100]!r}.", param=param)


def load_project(tenant: str, project_id: str, param: str | None = None) -> Project:
    try:
        project = Project.get(project_id, consistent_read=True)
    except Project.DoesNotExist:
        raise _missing("project", project_id, param) from None
    if project.tenant != tenant:
        raise _missing("project", project_id, param)
    return project


def load_clip(tenant: str, clip_id: str) -> Clip:
    try:
        clip = Clip.get(clip_id, consistent_read=True)
    except Clip.DoesNotExist:
        raise _missing("clip", clip_id) from None
    if clip.tenant != tenant:
        raise _missing("clip", clip_id)
    return clip


def load_upload(tenant: str, upload_id: str, param: str | None = None) -> Upload:
    try:
        upload = Upload.get(upload_id, consistent_read=True)
    except Upload.DoesNotExist:
        raise _missing("upload", upload_id, param) from None
    if upload.tenant != tenant:
        raise _missing("upload", upload_id, param)
    return upload
