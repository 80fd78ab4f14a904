"""PynamoDB models: one table per entity, with the indexes the API's list/lookup paths need (no scans).

Tenancy: every row a caller can reach carries `tenant` = "<account_id>#<mode>" (mode is live or test),
so ks_test_ keys and ks_live_ keys see separate data. Reads check the tenant and answer 404 otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from ..settings import get_settings


def utcnow() -> datetime:
    return datetime.now(UTC)


def tenant_of(account_id: str, mode: str) -> str:
    return f"{account_id}#{mode}"


def _meta(table: str) -> type:
    """A Meta class for `table` under the configured prefix, region and endpoint."""
    settings = get_settings()
    attrs: dict[str, Any] = {
        "table_name": f"{settings.table_prefix}{table}",
        "base_name": table,
        "region": settings.aws_region,
        "billing_mode": "PAY_PER_REQUEST",
    }
    if settings.dynamodb_endpoint_url:
        attrs["host"] = settings.dynamodb_endpoint_url
    return type("Meta", (), attrs)


def _index_meta(name: str) -> type:
    return type("Meta", (), {"index_name": name, "projection": AllProjection()})


# --- accounts and keys ---------------------------------------------------------------------------


class Account(Model):
    Meta = _meta("accounts")
    account_id = UnicodeAttribute(hash_key=True)
    plan = UnicodeAttribute(default="spark")  # spark | creator | studio
    webhook_secret = UnicodeAttribute(null=True)  # legacy plain secret: sealed into the per-mode rings on first use
    # sealed signing-secret rings ({current, previous, previous_until}) for project-level webhook_url deliveries
    webhook_secret_live = UnicodeAttribute(null=True)
    webhook_secret_test = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)


class KeysByAccountIndex(GlobalSecondaryIndex["ApiKey"]):
    Meta = _index_meta("by-account")
    account_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ApiKey(Model):
    """Only HMAC-SHA256(pepper, key) is stored; the key itself is shown once at creation."""

    Meta = _meta("api-keys")
    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()  # "key_…", safe to show
    prefix = UnicodeAttribute()  # e.g. "ks_live_ab12" for display
    account_id = UnicodeAttribute()
    mode = UnicodeAttribute()  # live | test
    created_at = UTCDateTimeAttribute(default=utcnow)
    revoked_at = UTCDateTimeAttribute(null=True)
    by_account = KeysByAccountIndex()


# --- projects and clips --------------------------------------------------------------------------


class ProjectsByTenantIndex(GlobalSecondaryIndex["Project"]):
    Meta = _index_meta("by-tenant")
    tenant = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


IN_FLIGHT = "processing"  # value of Project.in_flight while the project is processing (absent otherwise)


class ProjectsInFlightIndex(GlobalSecondaryIndex["Project"]):
    """Sparse: only projects with `in_flight` set (status processing) are in it; the sweeper queries it."""

    Meta = _index_meta("in-flight")
    in_flight = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class ErrorMap(MapAttribute):
    code = UnicodeAttribute()
    message = UnicodeAttribute()


class Project(Model):
    Meta = _meta("projects")
    project_id = UnicodeAttribute(hash_key=True)  # "proj_…"
    tenant = UnicodeAttribute()
    account_id = UnicodeAttribute()
    status = UnicodeAttribute(default="processing")  # processing | completed | failed
    stage = UnicodeAttribute(default="queued")  # queued|ingesting|transcribing|scoring|rendering|completed|failed
    progress = NumberAttribute(default=0)  # 0-100
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    completed_at = UTCDateTimeAttribute(null=True)
    # request fields
    video_url = UnicodeAttribute(null=True)
    upload_id = UnicodeAttribute(null=True)
    upload_key = UnicodeAttribute(null=True)  # object key of the uploaded source (when upload_id is set)
    max_clips = NumberAttribute(default=10)
    caption_style = UnicodeAttribute(default="karaoke")
    layout = UnicodeAttribute(default="auto")  # auto | focus | split | fit
    platforms = ListAttribute(of=UnicodeAttribute, default=list)
    min_duration = NumberAttribute(default=15)
    max_duration = NumberAttribute(default=60)
    language = UnicodeAttribute(null=True)
    webhook_url = UnicodeAttribute(null=True)
    metadata = JSONAttribute(default=dict)
    template_id = UnicodeAttribute(null=True)  # the template the style started from, if any
    style = JSONAttribute(null=True)  # the resolved render style (engine.style.Style.to_dict())
    watermark_key = UnicodeAttribute(null=True)  # object key of the style's checked watermark image
    # pipeline state
    execution_arn = UnicodeAttribute(null=True)
    source_key = UnicodeAttribute(null=True)  # object key of the ingested source
    transcript_key = UnicodeAttribute(null=True)
    chapters = JSONAttribute(null=True)  # [{start, end, title}] from topic segmentation (score step)
    quality = JSONAttribute(null=True)  # {level: ok|low, reason, best_score} (score step)
    media = JSONAttribute(null=True)  # MediaInfo.to_dict() (without the local path)
    source_seconds = NumberAttribute(null=True)
    slot_released = BooleanAttribute(default=False)  # concurrency slot given back exactly once
    error = ErrorMap(null=True)
    by_tenant = ProjectsByTenantIndex()
    in_flight = UnicodeAttribute(null=True)  # IN_FLIGHT while status is processing: key of the sparse index
    in_flight_index = ProjectsInFlightIndex()

    def save(self, *args: Any, **kwargs: Any) -> Any:
        """Keep the sparse in-flight index key in step with `status` on every full write."""
        self.in_flight = IN_FLIGHT if self.status == "processing" else None
        return super().save(*args, **kwargs)


class ClipsByProjectIndex(GlobalSecondaryIndex["Clip"]):
    Meta = _index_meta("by-project")
    project_id = UnicodeAttribute(hash_key=True)
    rank = NumberAttribute(range_key=True)


class Clip(Model):
    Meta = _meta("clips")
    clip_id = UnicodeAttribute(hash_key=True)  # "clip_…"
    project_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    rank = NumberAttribute()  # 0-based order in the project (by virality, prompt clips after)
    title = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    hashtags = ListAttribute(of=UnicodeAttribute, default=list)
    virality_score = NumberAttribute()
    sub_scores = JSONAttribute(default=dict)
    reason = UnicodeAttribute(default="")
    start = NumberAttribute()
    end = NumberAttribute()
    duration_seconds = NumberAttribute()
    transcript = JSONAttribute(default=dict)  # {"text": ..., "words": [...]} in clip seconds
    layout_keyframes = JSONAttribute(default=list)  # [LayoutKeyframe.to_dict()] in clip seconds
    # platform name -> {"width", "height", "key"}; keys are object keys, never URLs
    renditions = JSONAttribute(default=dict)
    thumbnail_key = UnicodeAttribute(null=True)
    prompt_job_id = UnicodeAttribute(null=True)
    prompt = UnicodeAttribute(null=True)
    relevance = NumberAttribute(null=True)
    quotes = JSONAttribute(null=True)  # spans that drove the hook/value sub-scores (ClipOut.quotes)
    created_at = UTCDateTimeAttribute(default=utcnow)
    by_project = ClipsByProjectIndex()
    # editing: the clip is data (source ranges, words, caption fixes, style, layout); each render of that
    # data is a numbered version. start/end/transcript/renditions/thumbnail_key above are the latest
    # finished version's; `pending` is the edit being rendered (status "rendering") until it finishes.
    status = UnicodeAttribute(default="ready")  # ready | rendering | failed (a manual clip whose render failed)
    source_ranges = JSONAttribute(null=True)  # [[start, end], ...] source seconds the latest version keeps
    word_fixes = JSONAttribute(default=dict)  # {source word index (str): corrected caption text}
    style = JSONAttribute(null=True)  # the clip's resolved render style (engine.style.Style.to_dict())
    layout = JSONAttribute(null=True)  # "auto" | "focus" | "split" | "fit", or keyframes [{"at", "layout"}]
    template_id = UnicodeAttribute(null=True)
    watermark_key = UnicodeAttribute(null=True)  # object key of the clip's own checked watermark image, if any
    manual = BooleanAttribute(default=False)  # added by POST /v1/projects/{id}/clips
    version = NumberAttribute(default=1)  # the latest finished version (0 while a manual clip's first render runs)
    versions = JSONAttribute(default=list)  # [{version, start, end, source_ranges, duration_seconds, renditions,
    #                                           thumbnail_key, created_at}], oldest first
    pending = JSONAttribute(null=True)  # {version, start, end, source_ranges, word_fixes, style, watermark_key, ...}
    edit_error = ErrorMap(null=True)  # why the last edit's render failed (the previous version stays)


class PromptJobsByProjectIndex(GlobalSecondaryIndex["PromptJob"]):
    Meta = _index_meta("by-project")
    project_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class PromptJob(Model):
    Meta = _meta("prompt-jobs")
    job_id = UnicodeAttribute(hash_key=True)  # "pj_…"
    project_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    prompt = UnicodeAttribute()
    max_clips = NumberAttribute(default=3)
    status = UnicodeAttribute(default="processing")  # processing | completed | failed
    clip_ids = ListAttribute(of=UnicodeAttribute, default=list)
    reason = UnicodeAttribute(null=True)  # why zero clips, when so
    error = ErrorMap(null=True)
    execution_arn = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    template_id = UnicodeAttribute(null=True)
    style = JSONAttribute(null=True)  # the resolved render style of this job's clips
    watermark_key = UnicodeAttribute(null=True)
    by_project = PromptJobsByProjectIndex()


# --- brand templates -------------------------------------------------------------------------------


class TemplatesByTenantIndex(GlobalSecondaryIndex["Template"]):
    Meta = _index_meta("by-tenant")
    tenant = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Template(Model):
    """An account's saved render style with a name."""

    Meta = _meta("templates")
    template_id = UnicodeAttribute(hash_key=True)  # "tmpl_…"
    tenant = UnicodeAttribute()
    name = UnicodeAttribute()
    style = JSONAttribute(default=dict)  # engine.style.Style.to_dict()
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    by_tenant = TemplatesByTenantIndex()


# --- publishing ------------------------------------------------------------------------------------


class PublicationsByClipIndex(GlobalSecondaryIndex["Publication"]):
    Meta = _index_meta("by-clip")
    clip_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class Publication(Model):
    Meta = _meta("publications")
    publication_id = UnicodeAttribute(hash_key=True)  # "pub_…"
    clip_id = UnicodeAttribute()
    project_id = UnicodeAttribute()
    tenant = UnicodeAttribute()
    platform = UnicodeAttribute()
    account_id = UnicodeAttribute()  # the social account ("sa_…")
    title = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    privacy = UnicodeAttribute(default="public")
    schedule_at = UTCDateTimeAttribute(null=True)
    status = UnicodeAttribute(default="queued")  # queued | uploading | processing | published | failed
    post_id = UnicodeAttribute(null=True)
    post_url = UnicodeAttribute(null=True)
    error = ErrorMap(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    tags = ListAttribute(of=UnicodeAttribute, null=True)  # the caller's tags (None: the clip's hashtags)
    # the platform's handle once it holds the video (YouTube video id, TikTok publish_id, Instagram
    # container/media id): a later run resumes polling it instead of uploading again
    upload_ref = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)  # runs claimed so far (retryable failures run again)
    by_clip = PublicationsByClipIndex()


class SocialAccountsByTenantIndex(GlobalSecondaryIndex["SocialAccount"]):
    Meta = _index_meta("by-tenant")
    tenant = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class SocialAccount(Model):
    """A connected platform account; tokens are stored only as envelope-encrypted blobs."""

    Meta = _meta("social-accounts")
    social_account_id = UnicodeAttribute(hash_key=True)  # "sa_…"
    tenant = UnicodeAttribute()
    platform = UnicodeAttribute()
    display_name = UnicodeAttribute(default="")
    encrypted_tokens = UnicodeAttribute()  # base64 envelope: {access_token, refresh_token, expires_at, ...}
    created_at = UTCDateTimeAttribute(default=utcnow)
    status = UnicodeAttribute(default="active")  # active | reconnect_required (tokens could not be refreshed)
    status_reason = UnicodeAttribute(null=True)
    by_tenant = SocialAccountsByTenantIndex()


# --- rate limits, webhooks -------------------------------------------------------------------------


class RateCounter(Model):
    """Atomic counters: "<account>#min#<window>", "<account>#hour#<window>", "<account>#concurrent"."""

    Meta = _meta("rate-counters")
    counter_key = UnicodeAttribute(hash_key=True)
    count = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True)


class DeliveriesByProjectIndex(GlobalSecondaryIndex["WebhookDelivery"]):
    Meta = _index_meta("by-project")
    project_id = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WebhookDelivery(Model):
    """One event to one URL, with every attempt made."""

    Meta = _meta("webhook-deliveries")
    event_id = UnicodeAttribute(hash_key=True)  # "evt_…"
    tenant = UnicodeAttribute()
    project_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    url = UnicodeAttribute()
    payload = JSONAttribute()
    status = UnicodeAttribute(default="pending")  # pending | delivered | failed
    attempts = ListAttribute(of=MapAttribute, default=list)  # {at, status_code, latency_ms, error}
    created_at = UTCDateTimeAttribute(default=utcnow)
    retry_from = UTCDateTimeAttribute(null=True)  # start of the current retry window (creation or resend)
    expires_at = TTLAttribute(null=True)
    endpoint_id = UnicodeAttribute(null=True)  # "we_…" for a webhook endpoint's copy; None: the project's webhook_url
    lease_until = NumberAttribute(null=True)  # unix seconds: an attempt is in flight until then (claimed first)
    lease_token = UnicodeAttribute(null=True)  # who holds the lease
    by_project = DeliveriesByProjectIndex()


class EndpointsByTenantIndex(GlobalSecondaryIndex["WebhookEndpoint"]):
    Meta = _index_meta("by-tenant")
    tenant = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class WebhookEndpoint(Model):
    """A URL receiving the tenant's events (all, or the listed types), with its own sealed signing secrets."""

    Meta = _meta("webhook-endpoints")
    endpoint_id = UnicodeAttribute(hash_key=True)  # "we_…"
    tenant = UnicodeAttribute()
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute, default=list)  # empty: every event type
    description = UnicodeAttribute(default="")
    sealed_secret = UnicodeAttribute()  # sealed ring {current, previous, previous_until}
    created_at = UTCDateTimeAttribute(default=utcnow)
    by_tenant = EndpointsByTenantIndex()


# --- uploads, idempotency --------------------------------------------------------------------------


class Upload(Model):
    """A caller's direct-to-storage upload (presigned PUT, or multipart for large files); single use."""

    Meta = _meta("uploads")
    upload_id = UnicodeAttribute(hash_key=True)  # "upl_…"
    tenant = UnicodeAttribute()
    key = UnicodeAttribute()  # object key under uploads/ (storage.upload_key)
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    multipart_upload_id = UnicodeAttribute(null=True)  # S3 UploadId when multipart
    part_size = NumberAttribute(null=True)
    status = UnicodeAttribute(default="pending")  # pending | uploaded | consumed
    project_id = UnicodeAttribute(null=True)  # the project that consumed it
    created_at = UTCDateTimeAttribute(default=utcnow)
    expires_at = TTLAttribute(null=True)  # unconsumed uploads expire (sweeper and lifecycle rule remove objects)


class IdempotencyRecord(Model):
    """Table schema of powertools' DynamoDBPersistenceLayer (it writes the rows; we only create the table)."""

    Meta = _meta("idempotency")
    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)


ALL_MODELS: tuple[type[Model], ...] = (
    Upload,
    IdempotencyRecord,
    Account,
    ApiKey,
    Project,
    Clip,
    PromptJob,
    Publication,
    SocialAccount,
    RateCounter,
    WebhookDelivery,
    WebhookEndpoint,
    Template,
)


def bind_models() -> None:
    """Re-read table prefix, region and endpoint from the current settings (after they change)."""
    settings = get_settings()
    for model in ALL_MODELS:
        meta = model.Meta
        meta.table_name = settings.table_prefix + meta.base_name
        meta.region = settings.aws_region
        meta.host = settings.dynamodb_endpoint_url or None
        model._connection = None


def create_tables() -> None:
    """Create every table (local mode and tests; on AWS the template creates them)."""
    for model in ALL_MODELS:
        if not model.exists():
            model.create_table(wait=True)
