"""Tenant-scoped row loading: anything missing or owned by another tenant is the same 404."""

from __future__ import annotations

import secrets
import string
from typing import Any, TypeVar

from ..data.models import Clip, Project, Upload
from .errors import ApiError

_ALNUM = string.ascii_letters + string.digits
M = TypeVar("M", bound=Any)  # a PynamoDB model with a `tenant` attribute


def new_id(prefix: str, length: int = 24) -> str:
    """An opaque id like proj_Ab3…: unguessable (≈143 bits), valid as a Step Functions execution name."""
    return prefix + "".join(secrets.choice(_ALNUM) for _ in range(length))


def load_owned(model: type[M], kind: str, tenant: str, ident: str, param: str | None = None) -> M:
    """The `model` row keyed `ident` if `tenant` owns it; the same 404 when it is missing or another's."""
    try:
        row = model.get(ident, consistent_read=True)
    except model.DoesNotExist:
        row = None
    if row is None or row.tenant != tenant:
        raise ApiError(404, "resource_missing", f"No such {kind}: {ident[:100]!r}.", param=param)
    return row


def load_project(tenant: str, project_id: str, param: str | None = None) -> Project:
    return load_owned(Project, "project", tenant, project_id, param)


def load_clip(tenant: str, clip_id: str) -> Clip:
    return load_owned(Clip, "clip", tenant, clip_id)


def load_upload(tenant: str, upload_id: str, param: str | None = None) -> Upload:
    return load_owned(Upload, "upload", tenant, upload_id, param)
