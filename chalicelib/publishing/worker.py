"""Publish worker: one Publication row -> a post on the platform, with recorded status transitions.

`process_publication(publication_id)` is what the SQS-fed Lambda (and the local worker) runs:

    queued --(conditional update: only from queued)--> uploading --> processing --> published
       ^                                                   \\-------------\\--------> failed
       \\----- retryable failure (attempts left): queued again with schedule_at = now + backoff

The conditional queued -> uploading update is the double-post guard: a second run for the same
publication (SQS redelivery, a duplicate message, the scheduler and the queue both firing) finds the
status already moved and does nothing. The moment the platform holds the video, its handle is stored
(`upload_ref`); from then on no run uploads again: a retry (after a processing timeout, a lost poll or a
worker killed mid-poll, which `fail_stale_publications` requeues) claims queued -> processing and only
resumes polling. Every write is conditional on the row existing, so a publication deleted meanwhile is
never recreated. Limits and field rules are checked before any byte is sent; refreshed tokens are
re-encrypted into the SocialAccount row (a refused token marks it reconnect_required);
clip.published / clip.publish_failed are emitted at the end.

Scheduling (`dispatch_publication`): immediate publications go straight to the publish queue; ones with
a future schedule_at get an EventBridge Scheduler one-time schedule (on AWS) targeting that queue, or
wait for the local scheduler loop (`run_due_publications`), which local mode calls periodically.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError
from pynamodb.exceptions import DoesNotExist, UpdateError

from ..data import storage
from ..data.aws import sqs_client
from ..data.models import Clip, ErrorMap, Project, Publication, SocialAccount, utcnow
from ..settings import Settings, get_settings
from ..webhooks import events
from . import tokens as token_crypto
from .accounts import mark_reconnect_required, refresh_due_accounts, save_tokens
from .base import PlatformClient, PublishRequest, TokenSet
from .errors import AuthFailed, PublishError
from .instagram import InstagramClient
from .limits import (
    account_platform_of,
    check_clip,
    check_fields,
    check_privacy,
    pick_rendition,
    resolve_target,
)
from .tiktok import TikTokClient
from .youtube import YouTubeClient

log = logging.getLogger(__name__)

CLIENTS: dict[str, type[PlatformClient]] = {
    "youtube": YouTubeClient,
    "tiktok": TikTokClient,
    "instagram": InstagramClient,
}
ClientFactory = Callable[..., PlatformClient]


MAX_RETRY_DELAY_SECONDS = 900.0

# --- status transitions ------------------------------------------------------------------------------


class PublicationGone(Exception):
    """The publication row was deleted while a run was working on it; nothing more is written."""


def _claim(pub: Publication) -> bool:
    """queued -> uploading (processing when resuming a stored upload), only if still queued (atomic).

    False when another run got there first. Counts the run in `attempts`.
    """
    now = utcnow()
    try:
        pub.update(
            actions=[Publication.status.set("processing" if pub.upload_ref else "uploading"),
                     Publication.updated_at.set(now), Publication.attempts.add(1)],
            condition=(Publication.status == "queued"),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _update(pub: Publication, actions: list[Any]) -> None:
    """Apply `actions` only while the row exists (an update never recreates a deleted publication)."""
    try:
        pub.update(actions=actions, condition=Publication.publication_id.exists())
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise PublicationGone(pub.publication_id) from None
        raise


def _set_status(pub: Publication, status: str, **fields: Any) -> None:
    """Set status (and `fields`; None removes one); `pub` holds the updated row afterwards (ALL_NEW)."""
    actions = [Publication.status.set(status), Publication.updated_at.set(utcnow())]
    for name, value in fields.items():
        attr = getattr(Publication, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    _update(pub, actions)


def _store_ref(pub: Publication) -> Callable[[str], None]:
    """`on_posted` callback: record the platform's handle the moment it exists."""

    def store(ref: str) -> None:
        _update(pub, [Publication.upload_ref.set(ref), Publication.updated_at.set(utcnow())])
        log.info("publication %s: the platform holds the video (%s)", pub.publication_id, ref)

    return store


# --- events --------------------------------------------------------------------------------------------


def publication_payload(pub: Publication) -> dict[str, Any]:
    """The webhook body of clip.published / clip.publish_failed."""
    return {
        "publication_id": pub.publication_id,
        "clip_id": pub.clip_id,
        "project_id": pub.project_id,
        "platform": pub.platform,
        "account_id": pub.account_id,
        "status": pub.status,
        "post_id": pub.post_id,
        "post_url": pub.post_url,
        "error": pub.error.as_dict() if pub.error else None,
    }


def emit_event(event_type: str, pub: Publication) -> str | None:
    """Queue a signed webhook for `event_type` to the project's webhook_url (None when none is set)."""
    try:
        project = Project.get(pub.project_id)
    except DoesNotExist:
        return None
    return events.enqueue(project, event_type, {"event": event_type, **publication_payload(pub)})


# --- the worker ------------------------------------------------------------------------------------------


def _fail(pub: Publication, error: dict[str, str], **fields: Any) -> Publication:
    message = error["message"]
    if pub.upload_ref and fields.get("upload_ref", True) is not None:
        message += f" (the platform holds the upload as {pub.upload_ref}; it was not posted again)"
    _set_status(pub, "failed", error=ErrorMap(code=error["code"], message=message[:500]), **fields)
    emit_event("clip.publish_failed", pub)
    return pub


def retry_delay(attempts: int, settings: Settings) -> float:
    """Wait before run `attempts + 1`: the configured delay, doubling per run, at most 15 minutes."""
    return min(MAX_RETRY_DELAY_SECONDS, settings.publish_retry_delay_seconds * 2 ** max(0, attempts - 1))


def _retry_or_fail(pub: Publication, exc: PublishError, settings: Settings) -> Publication:
    """A retryable error with runs left queues the publication again (resuming if the upload is stored)."""
    fields: dict[str, Any] = {"upload_ref": None} if exc.restart else {}
    if not exc.retryable or int(pub.attempts or 0) >= settings.publish_max_attempts:
        return _fail(pub, exc.to_dict(), **fields)
    delay = retry_delay(int(pub.attempts or 0), settings)
    _set_status(pub, "queued", schedule_at=utcnow() + timedelta(seconds=delay),
                error=ErrorMap(code=exc.code, message=f"{exc.message[:400]}; retrying in {delay:.0f}s"), **fields)
    log.info("publication %s: %s; run %s of %s in %.0fs (%s)", pub.publication_id, exc.code, int(pub.attempts) + 1,
             settings.publish_max_attempts, delay, "resuming the poll" if pub.upload_ref else "from the start")
    dispatch_publication(pub, settings=settings, on_conflict_ok=True)
    return pub


def process_publication(
    publication_id: str,
    *,
    settings: Settings | None = None,
    client_factory: ClientFactory | None = None,
    now: datetime | None = None,
) -> Publication | None:
    """Publish one queued publication; returns the final row (None if it does not exist).

    Safe to run twice: only the run that moves it out of `queued` uploads anything. A publication whose
    schedule_at is still in the future is left queued. `client_factory(platform, tokens, **kw)` lets
    tests and the local service build clients (default: the real client class for the platform).
    """
    settings = settings or get_settings()
    try:
        pub = Publication.get(publication_id)
    except DoesNotExist:
        log.warning("publication %s does not exist", publication_id)
        return None
    now = now or utcnow()
    if pub.status != "queued":
        log.info("publication %s is already %s; nothing to do", publication_id, pub.status)
        return pub
    if pub.schedule_at is not None and pub.schedule_at > now + timedelta(seconds=5):
        log.info("publication %s is scheduled for %s", publication_id, pub.schedule_at.isoformat())
        return pub
    if not _claim(pub):
        log.info("publication %s was claimed by another run", publication_id)
        return Publication.get(publication_id)
    try:
        return _run(pub, settings, client_factory)
    except PublicationGone:
        log.info("publication %s was deleted while publishing; nothing more is written", publication_id)
        return None


def _run(pub: Publication, settings: Settings, client_factory: ClientFactory | None) -> Publication:
    """The claimed run: checks, then upload and poll (or only poll, when the upload is already stored)."""
    publication_id = pub.publication_id
    try:
        target = resolve_target(pub.platform)
        clip = Clip.get(pub.clip_id)
        account = SocialAccount.get(pub.account_id)
        if clip.tenant != pub.tenant or account.tenant != pub.tenant:
            raise PublishError("clip or account belongs to another tenant", code="not_found")
        if account_platform_of(account.platform) != target.account_platform:
            raise PublishError(f"account {account.social_account_id} is a {account.platform} account, "
                               f"not {target.account_platform}", code="account_mismatch")
        if account.status == "reconnect_required":
            raise AuthFailed(f"social account {account.social_account_id} must be reconnected: "
                             f"{account.status_reason or 'its token could not be refreshed'}",
                             code="reconnect_required")
        check_privacy(target, pub.privacy)
        title = pub.title or clip.title
        description = pub.description if pub.description is not None else (clip.description or "")
        # the caller's own fields, as at request time (generated text is fitted by the client)
        check_fields(target, title=pub.title or "", description=pub.description or "", tags=pub.tags,
                     privacy=pub.privacy, settings=settings)
        rendition = pick_rendition(target, dict(clip.renditions or {}))
        width, height = int(rendition["width"]), int(rendition["height"])
        check_clip(target, duration=float(clip.duration_seconds), width=width, height=height)
        token_set = TokenSet.from_dict(
            token_crypto.decrypt_tokens(account.encrypted_tokens, account.social_account_id, settings)
        )
    except (DoesNotExist, KeyError) as exc:
        return _fail(pub, {"code": "not_found", "message": f"clip, rendition or account missing: {exc}"})
    except (PublishError, token_crypto.TokenCryptoError) as exc:
        return _fail(pub, {"code": exc.code, "message": str(exc)})

    with tempfile.TemporaryDirectory(prefix="klipstar-publish-", dir=settings.work_dir or None) as tmp:
        try:
            path = storage.get_file(rendition["key"], Path(tmp) / "clip.mp4")
            check_clip(target, duration=float(clip.duration_seconds), width=width, height=height,
                       size_bytes=path.stat().st_size)
            req = PublishRequest(
                path=path,
                title=title,
                description=description,
                tags=list(pub.tags if pub.tags is not None else clip.hashtags or []),
                privacy=pub.privacy,
                duration=float(clip.duration_seconds),
                width=width,
                height=height,
                video_url=storage.presign_get(rendition["key"]) if target.account_platform == "instagram" else None,
            )
            factory = client_factory or (lambda platform, toks, **kw: CLIENTS[platform](toks, **kw))
            client = factory(
                target.account_platform,
                token_set,
                settings=settings,
                on_tokens=save_tokens(account, settings),
                on_status=lambda stage: _set_status(pub, stage),
                on_posted=_store_ref(pub),
            )
            result = client.resume(pub.upload_ref, req) if pub.upload_ref else client.publish(req)
        except PublicationGone:
            raise
        except PublishError as exc:
            log.info("publication %s failed: %s", publication_id, exc.code)
            if isinstance(exc, AuthFailed):
                mark_reconnect_required(account, exc.message)
            return _retry_or_fail(pub, exc, settings)
        except Exception:
            log.exception("publication %s crashed", publication_id)
            crash = PublishError("publishing failed unexpectedly", code="internal_error",
                                 retryable=bool(pub.upload_ref))  # once uploaded, retrying only polls
            return _retry_or_fail(pub, crash, settings)

    applied = {"privacy": result.privacy} if result.privacy and result.privacy != pub.privacy else {}
    _set_status(pub, "published", post_id=result.post_id, post_url=result.post_url, error=None, **applied)
    emit_event("clip.published", pub)
    return pub


# --- queue and scheduler -----------------------------------------------------------------------------------


def sqs_handler(event: Any, context: Any = None, *, settings: Settings | None = None) -> dict[str, Any]:
    """SQS-fed Lambda: each record body is {"publication_id": ...}.

    Takes the raw Lambda event (a dict with Records) or Chalice's SQSEvent. A message that arrives
    before the publication's schedule_at (the API queues every publication at once) is handed to
    `dispatch_publication`, which creates the EventBridge schedule that sends it again on time.
    """
    settings = settings or get_settings()
    bodies = [r["body"] for r in event.get("Records", [])] if isinstance(event, dict) else [r.body for r in event]
    done = []
    for raw in bodies:
        publication_id = json.loads(raw)["publication_id"]
        early = _early(publication_id)
        if early is not None:  # arrived before its time: schedule it (a run's own requeue already did)
            dispatch_publication(early, settings=settings, on_conflict_ok=True, delay_ok=False)
            pub: Publication | None = early
        else:
            pub = process_publication(publication_id, settings=settings)
        done.append({"publication_id": publication_id, "status": pub.status if pub else None})
    return {"processed": done}


def _early(publication_id: str) -> Publication | None:
    """The publication when it is queued for later than now (a message that came early), else None."""
    try:
        pub = Publication.get(publication_id)
    except DoesNotExist:
        return None
    due = pub.schedule_at is None or pub.schedule_at <= utcnow() + timedelta(seconds=5)
    return None if pub.status != "queued" or due else pub


def schedule_name(publication_id: str) -> str:
    return f"klipstar-publish-{publication_id}"


def dispatch_publication(pub: Publication, *, settings: Settings | None = None,
                         now: datetime | None = None, on_conflict_ok: bool = False, delay_ok: bool = True) -> str:
    """Hand a freshly created publication to the worker. Returns how: queued | delayed | scheduled | local.

    - no schedule_at (or already due): one message on the publish queue;
    - schedule_at within 15 minutes on AWS (a retry's backoff): one message delayed until then (not for
      `delay_ok=False`, an early message's re-dispatch: only the idempotent named schedule may be added);
    - future schedule_at on AWS: an EventBridge Scheduler `at(...)` schedule sending that message then
      (deleted after it fires);
    - future schedule_at in local mode (or with no scheduler configured): left for the local scheduler
      loop, `run_due_publications`.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    body = json.dumps({"publication_id": pub.publication_id})
    due = pub.schedule_at is None or pub.schedule_at <= now
    soon = not due and (pub.schedule_at - now).total_seconds() <= MAX_RETRY_DELAY_SECONDS
    if soon and delay_ok and not settings.is_local and settings.publish_queue_url:
        # soon (a retry's backoff): a delayed message, no schedule needed
        sqs_client().send_message(QueueUrl=settings.publish_queue_url, MessageBody=body,
                                  DelaySeconds=min(900, int((pub.schedule_at - now).total_seconds()) + 1))
        return "delayed"
    if not due and not settings.is_local and settings.scheduler_role_arn and settings.publish_queue_arn:
        at = pub.schedule_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            boto3.client("scheduler", region_name=settings.aws_region).create_schedule(
                Name=schedule_name(pub.publication_id),
                GroupName=settings.scheduler_group,
                ScheduleExpression=f"at({at})",
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": settings.publish_queue_arn, "RoleArn": settings.scheduler_role_arn, "Input": body},
                ActionAfterCompletion="DELETE",
            )
        except ClientError as exc:
            if not (on_conflict_ok and exc.response.get("Error", {}).get("Code") == "ConflictException"):
                raise
        return "scheduled"
    if not due:
        return "local"
    if settings.publish_queue_url:
        sqs_client().send_message(QueueUrl=settings.publish_queue_url, MessageBody=body)
        return "queued"
    return "local"


def run_due_publications(*, now: datetime | None = None, settings: Settings | None = None,
                         client_factory: ClientFactory | None = None) -> list[str]:
    """Local scheduler loop body: publish every queued publication whose time has come.

    Scans the publications table (local mode only: a small table, not a request path).
    """
    now = now or utcnow()
    ran = []
    for pub in Publication.scan(Publication.status == "queued"):
        if pub.schedule_at is None or pub.schedule_at <= now:
            process_publication(pub.publication_id, settings=settings, client_factory=client_factory, now=now)
            ran.append(pub.publication_id)
    return ran


def scheduler_pass(*, settings: Settings | None = None, client_factory: ClientFactory | None = None) -> list[str]:
    """One pass of local mode's publish scheduler: recover stuck publications, then run the due ones."""
    fail_stale_publications(settings=settings)
    return run_due_publications(settings=settings, client_factory=client_factory)


def scheduler_loop(stop: threading.Event, *, interval: float = 5.0, settings: Settings | None = None,
                   client_factory: ClientFactory | None = None) -> None:
    """Local mode's publish scheduler: `scheduler_pass` every `interval` s until `stop` is set.

    Covers both immediate publications (schedule_at empty) and scheduled ones, recovers stuck ones
    (`fail_stale_publications`) and, every `token_refresh_interval_seconds`, refreshes social tokens
    nearing expiry (`refresh_due_accounts`, what `maintenance_handler` does on AWS); start it in a thread.
    """
    next_refresh = 0.0
    while not stop.is_set():
        try:
            scheduler_pass(settings=settings, client_factory=client_factory)
            if time.monotonic() >= next_refresh:
                refresh_due_accounts(settings=settings, client_factory=client_factory)
                next_refresh = time.monotonic() + (settings or get_settings()).token_refresh_interval_seconds
        except Exception:
            log.exception("local publish scheduler pass failed")
        stop.wait(interval)


def maintenance_handler(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Scheduled Lambda (AWS): recover stuck publications and refresh social tokens before they expire."""
    failed = fail_stale_publications()
    return {"failed_publications": failed, **refresh_due_accounts()}


def fail_stale_publications(*, older_than: timedelta = timedelta(minutes=30), now: datetime | None = None,
                            settings: Settings | None = None) -> list[str]:
    """Recover publications stuck in uploading/processing (the worker died, e.g. a Lambda timeout).

    One whose upload the platform already holds (`upload_ref`) is queued again to resume polling, never
    to upload again. One that died before that is failed, code `interrupted`, not retried: the platform
    may or may not have received the post, and posting twice is worse than asking the caller to check
    and publish again. Returns the failed ids. For the maintenance schedule / local scheduler (scans).
    """
    cutoff = (now or utcnow()) - older_than
    failed = []
    stuck = Publication.status.is_in("uploading", "processing") & (Publication.updated_at < cutoff)
    for pub in Publication.scan(stuck):
        if pub.upload_ref:
            error = ErrorMap(code="interrupted", message=f"the publish worker stopped while {pub.status}; "
                                                         "resuming the platform's processing poll")
            actions = [Publication.status.set("queued"), Publication.schedule_at.remove(), Publication.error.set(error)]
        else:
            error = ErrorMap(code="interrupted", message="the publish worker stopped "
                                                         f"while {pub.status}; check the platform before retrying")
            actions = [Publication.status.set("failed"), Publication.error.set(error)]
        try:
            pub.update(
                actions=[*actions, Publication.updated_at.set(utcnow())],
                condition=(Publication.status == pub.status) & (Publication.updated_at == pub.updated_at),
            )
        except UpdateError:
            continue
        if pub.status == "queued":
            dispatch_publication(pub, settings=settings)
            continue
        emit_event("clip.publish_failed", pub)
        failed.append(pub.publication_id)
    return failed
