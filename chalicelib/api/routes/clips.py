"""/v1/clips: read a clip (fresh presigned URLs), publish it, list its publications."""

from __future__ import annotations

from datetime import UTC, timedelta

from chalice import Blueprint

from ...data.models import Project, Publication, SocialAccount, utcnow
from ...engine.platforms import PLATFORMS
from ...publishing.errors import LimitExceeded
from ...publishing.limits import account_platform_of, check_fields, check_publish_request, resolve_target
from ...publishing.worker import dispatch_publication
from ...settings import get_settings
from ...shapes import clip_json, publication_out
from ..errors import ApiError
from ..loaders import load_clip, load_owned, new_id
from ..routing import Call, Reply, api_route
from ..schemas import ClipOut, PublicationList, PublicationOut, PublishCreate

bp = Blueprint(__name__)
TAG = "clips"
MAX_SCHEDULE_AHEAD = timedelta(days=365)


def _platform_order(project_id: str) -> list[str]:
    try:
        return list(Project.get(project_id).platforms or [])
    except Project.DoesNotExist:
        return []


@api_route(bp, "/v1/clips/{clip_id}", "GET", summary="Get a clip with fresh download URLs", tag=TAG,
           response=ClipOut, errors=(404,))
def get_clip(call: Call) -> Reply:
    clip = load_clip(call.principal.tenant, call.params["clip_id"])
    return Reply(200, clip_json(clip, _platform_order(clip.project_id)))


@api_route(bp, "/v1/clips/{clip_id}/publish", "POST", status=202, summary="Publish a clip to a social platform",
           tag=TAG, request=PublishCreate, response=PublicationOut, errors=(400, 404, 413, 415, 422))
def publish_clip(call: Call) -> Reply:
    """Check the platform's limits now (422), then queue the publication for the publish worker."""
    body: PublishCreate = call.body
    tenant = call.principal.tenant
    clip = load_clip(tenant, call.params["clip_id"])
    account = load_owned(SocialAccount, "social account", tenant, body.account_id, param="account_id")
    if account_platform_of(account.platform) != resolve_target(body.platform).account_platform:
        raise ApiError(422, "platform_mismatch",
                       f"Social account {body.account_id!r} is a {account.platform} account, not {body.platform}.",
                       param="platform")
    limit = PLATFORMS[body.platform].max_duration
    if float(clip.duration_seconds) > limit:
        raise ApiError(422, "clip_too_long",
                       f"The clip lasts {float(clip.duration_seconds):.1f} s; {body.platform} allows {limit:g} s.",
                       param="platform")
    if body.platform not in (clip.renditions or {}):
        raise ApiError(422, "rendition_missing",
                       f"The clip was not rendered for {body.platform}; add it to the project's platforms.",
                       param="platform")
    try:  # the platform's own rules (privacy values and app status, shape, size, text fields) before queueing
        target = check_publish_request(body.platform, body.privacy, clip)
        check_fields(target, title=body.title or "", description=body.description or "", tags=body.tags,
                     privacy=body.privacy, settings=get_settings())
    except LimitExceeded as exc:
        raise ApiError(422, exc.code, exc.message[:1].upper() + exc.message[1:] + ".",
                       param=exc.param or "platform") from None
    schedule_at = body.schedule_at
    if schedule_at is not None:
        if schedule_at.tzinfo is None:
            schedule_at = schedule_at.replace(tzinfo=UTC)
        now = utcnow()
        if schedule_at <= now or schedule_at > now + MAX_SCHEDULE_AHEAD:
            raise ApiError(422, "invalid_field", "schedule_at must be in the future (at most a year ahead).",
                           param="schedule_at")
    now = utcnow()
    pub = Publication(
        new_id("pub_"), clip_id=clip.clip_id, project_id=clip.project_id, tenant=tenant, platform=body.platform,
        account_id=body.account_id, title=body.title or clip.title, description=body.description,
        privacy=body.privacy, schedule_at=schedule_at, status="queued", created_at=now, updated_at=now,
        tags=body.tags,
    )
    pub.save(condition=Publication.publication_id.does_not_exist())
    try:
        dispatch_publication(pub)  # the queue now, or an EventBridge schedule for schedule_at
    except Exception:
        pub.delete()
        raise
    return Reply(202, publication_out(pub))


@api_route(bp, "/v1/clips/{clip_id}/publications", "GET", summary="List a clip's publications, newest first",
           tag=TAG, response=PublicationList, errors=(404,))
def list_publications(call: Call) -> Reply:
    clip = load_clip(call.principal.tenant, call.params["clip_id"])
    pubs = list(Publication.by_clip.query(clip.clip_id, scan_index_forward=False, limit=101))
    data = [publication_out(p).model_dump(mode="json") for p in pubs[:100]]
    return Reply(200, {"object": "list", "data": data, "has_more": len(pubs) > 100})
