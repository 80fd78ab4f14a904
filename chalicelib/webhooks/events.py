"""Webhook events: payload builders and the enqueue step (delivery row + SQS message).

Stored payloads never hold URLs: a clip's download link is kept as {"$presign": <object key>} and
turned into a fresh presigned URL at each delivery attempt, so a retry hours later still works.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any

from ..data import storage
from ..data.aws import sqs_client
from ..data.models import Clip, Project, PromptJob, WebhookDelivery, WebhookEndpoint, utcnow
from ..settings import get_settings
from ..shapes import project_out

EVENT_TYPES: tuple[str, ...] = (
    "project.completed",
    "project.failed",
    "prompt.completed",
    "clip.published",
    "clip.publish_failed",
    "social_account.reconnect_required",
    "clip.updated",
)
DELIVERY_LOG_DAYS = 30
PRESIGN = "$presign"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def project_fields(project: Project) -> dict[str, Any]:
    """The project as GET /v1/projects/:id shows it (without clips): the shared public shape."""
    out = project_out(project, with_clips=False)
    out.pop("clips", None)
    return out


def clip_payload(clip: Clip) -> dict[str, Any]:
    """A clip in the seed's webhook shape, download links as presign markers."""
    renditions = dict(clip.renditions or {})
    platforms = {
        name: {"width": r["width"], "height": r["height"], "download_url": {PRESIGN: r["key"]}}
        for name, r in renditions.items()
    }
    first = next(iter(renditions.values()), None)
    return {
        "id": clip.clip_id,
        "title": clip.title,
        "virality_score": int(clip.virality_score),
        "duration_seconds": float(clip.duration_seconds),
        "download_url": {PRESIGN: first["key"]} if first else None,
        "platforms": platforms,
        "thumbnail_url": {PRESIGN: clip.thumbnail_key} if clip.thumbnail_key else None,
        "start": float(clip.start),
        "end": float(clip.end),
        "reason": clip.reason,
        "sub_scores": dict(clip.sub_scores or {}),
    }


def project_completed(project: Project) -> dict[str, Any]:
    clips = sorted(
        (c for c in Clip.by_project.query(project.project_id) if not c.prompt_job_id), key=lambda c: int(c.rank)
    )
    return {
        **project_fields(project),
        "event": "project.completed",
        "project_id": project.project_id,
        "clips": [clip_payload(c) for c in clips],
    }


def project_failed(project: Project) -> dict[str, Any]:
    return {**project_fields(project), "event": "project.failed", "project_id": project.project_id}


def prompt_completed(project: Project, job: PromptJob) -> dict[str, Any]:
    wanted = list(job.clip_ids or [])
    clips = {c.clip_id: c for c in Clip.batch_get(wanted)} if wanted else {}
    return {
        "event": "prompt.completed",
        "project_id": project.project_id,
        "prompt_job_id": job.job_id,
        "prompt": job.prompt,
        "status": job.status,
        "reason": job.reason,
        "clips": [clip_payload(clips[i]) for i in wanted if i in clips],
    }


def clip_updated(project: Project, clip: Clip) -> dict[str, Any]:
    """A clip's new state after an edit: its latest finished version (and whether another is rendering)."""
    return {
        "event": "clip.updated",
        "project_id": project.project_id,
        "clip_id": clip.clip_id,
        "version": int(clip.version or 0),
        "status": clip.status or "ready",
        "clip": clip_payload(clip),
    }


def materialize(payload: Any) -> Any:
    """Replace every {"$presign": key} marker with a fresh presigned GET URL."""
    if isinstance(payload, dict):
        if set(payload) == {PRESIGN}:
            return storage.presign_get(payload[PRESIGN])
        return {k: materialize(v) for k, v in payload.items()}
    if isinstance(payload, list):
        return [materialize(v) for v in payload]
    return payload


def livemode(tenant: str) -> bool:
    """True for a live-mode tenant ("<account>#live"): events say which mode they belong to."""
    return tenant.partition("#")[2] == "live"


def subscribed(endpoint: WebhookEndpoint, event_type: str) -> bool:
    return not endpoint.events or event_type in endpoint.events


def _record(project: Project, event_type: str, payload: dict[str, Any], url: str, endpoint_id: str | None) -> str:
    event_id = new_event_id()
    now = utcnow()
    WebhookDelivery(
        event_id,
        tenant=project.tenant,
        project_id=project.project_id,
        event_type=event_type,
        url=url,
        payload=payload,
        status="pending",
        attempts=[],
        created_at=now,
        retry_from=now,
        expires_at=now + timedelta(days=DELIVERY_LOG_DAYS),
        endpoint_id=endpoint_id,
    ).save(condition=WebhookDelivery.event_id.does_not_exist())
    send(event_id)
    return event_id


def enqueue(project: Project, event_type: str, payload: dict[str, Any], url: str | None = None) -> str | None:
    """Record and queue one delivery per destination: the project's webhook_url (signed with the account's
    secret for the mode) and every endpoint of the tenant subscribed to `event_type` (signed with its own).
    Returns the first delivery's id (the webhook_url's when set); None when there is no destination."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    body = {**payload, "livemode": livemode(project.tenant)}
    ids: list[str] = []
    target = url or project.webhook_url
    if target:
        ids.append(_record(project, event_type, body, target, None))
    for endpoint in WebhookEndpoint.by_tenant.query(project.tenant):
        if subscribed(endpoint, event_type):
            ids.append(_record(project, event_type, body, endpoint.url, endpoint.endpoint_id))
    return ids[0] if ids else None


def send(event_id: str, delay_seconds: int = 0) -> None:
    """Put the delivery on the webhook queue (no-op when no queue is configured)."""
    queue_url = get_settings().webhook_queue_url
    if not queue_url:
        return
    sqs_client().send_message(
        QueueUrl=queue_url, MessageBody=json.dumps({"event_id": event_id}), DelaySeconds=min(900, delay_seconds)
    )
