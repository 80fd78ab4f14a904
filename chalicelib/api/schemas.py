"""Pydantic request and response models: the single source of validation and of the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..engine.platforms import DEFAULT_PLATFORMS
from ..engine.style import Style
from ..engine.types import CAPTION_STYLES, MAX_CLIPS_LIMIT

PlatformName = Literal["youtube_shorts", "tiktok", "reels", "youtube", "square", "feed"]
PublishPlatform = Literal["youtube_shorts", "tiktok", "reels"]
CaptionStyle = Literal["karaoke", "bold", "minimal", "pop", "boxed", "none"]
ProjectStatus = Literal["processing", "completed", "failed"]
ProjectStage = Literal["queued", "ingesting", "transcribing", "scoring", "rendering", "completed", "failed"]
if set(CaptionStyle.__args__) != set(CAPTION_STYLES):  # keeps the schema in step with the engine
    raise ImportError("CaptionStyle is out of step with engine.types.CAPTION_STYLES")

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]
ShortText = Annotated[str, StringConstraints(max_length=500)]
TemplateId = Annotated[str, StringConstraints(pattern=r"^tmpl_[A-Za-z0-9]{1,64}$")]
STYLE_HELP = "Render style (captions, hook_title, watermark, tighten); its fields override the template's."


class Request(BaseModel):
    """Request bodies: strict types, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------------


class ProjectCreate(Request):
    """POST /v1/projects. Give exactly one of video_url and upload_id."""

    video_url: Url | None = Field(None, description="http(s) URL of the video (or a video page).")
    upload_id: Annotated[str, StringConstraints(pattern=r"^upl_[A-Za-z0-9]{1,64}$")] | None = Field(
        None, description="An upload from POST /v1/uploads, instead of video_url."
    )
    max_clips: int = Field(10, ge=1, le=MAX_CLIPS_LIMIT)
    caption_style: CaptionStyle = "karaoke"
    platforms: list[PlatformName] = Field(
        default_factory=lambda: list(DEFAULT_PLATFORMS), min_length=1, max_length=6
    )
    min_duration: float = Field(15.0, gt=0, le=600)
    max_duration: float = Field(60.0, gt=0, le=600)
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")] | None = Field(
        None, description="ISO 639-1 code; omit to auto-detect."
    )
    webhook_url: Url | None = Field(None, description="Receives signed project.* events.")
    metadata: dict[Annotated[str, StringConstraints(min_length=1, max_length=40)], ShortText] = Field(
        default_factory=dict, max_length=20, description="Small string map, echoed back."
    )
    template_id: TemplateId | None = Field(None, description="A saved style (POST /v1/templates).")
    style: Style | None = Field(None, description=STYLE_HELP)


class UploadCreate(Request):
    """POST /v1/uploads."""

    filename: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^/\\\x00-\x1f\x7f-\x9f]+$")]
    content_type: Annotated[str, StringConstraints(pattern=r"^(video|audio|image)/[A-Za-z0-9.+-]{1,100}$")] = Field(
        description="video/* or audio/* for a source; image/png, image/jpeg or image/webp for a watermark."
    )
    size: int = Field(ge=1, description="Exact size of the file in bytes.")


class CompletedPart(Request):
    part_number: int = Field(ge=1, le=10000)
    etag: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UploadComplete(Request):
    """POST /v1/uploads/{upload_id}/complete: the ETag of every part (multipart uploads only)."""

    parts: list[CompletedPart] | None = Field(None, max_length=10000)


class PromptCreate(Request):
    """POST /v1/projects/{project_id}/prompt."""

    prompt: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
    max_clips: int = Field(3, ge=1, le=10)
    template_id: TemplateId | None = Field(None, description="A saved style; default: the project's style.")
    style: Style | None = Field(None, description=STYLE_HELP + " Default: the project's style.")


class TemplateCreate(Request):
    """POST /v1/templates: a named style."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
    style: Style


class TemplateUpdate(Request):
    """PATCH /v1/templates/{template_id}: a new name and/or style fields (deep-merged into the saved style)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")] | None = None
    style: dict[str, Any] | None = Field(None, description="Style fields to change (null clears a field).")


class ListTemplatesQuery(BaseModel):
    """Query string of GET /v1/templates."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=100)
    starting_after: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="Cursor: the id of the last template of the previous page."
    )


class PublishCreate(Request):
    """POST /v1/clips/{clip_id}/publish."""

    platform: PublishPlatform
    account_id: Annotated[str, StringConstraints(pattern=r"^sa_[A-Za-z0-9]{1,64}$")] = Field(
        description="A connected social account (POST /v1/social-accounts)."
    )
    title: Annotated[str, StringConstraints(max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=2200)] | None = None
    privacy: Literal["public", "unlisted", "private"] = "public"
    schedule_at: datetime | None = Field(None, description="Publish later (ISO 8601, in the future).")


class ListProjectsQuery(BaseModel):
    """Query string of GET /v1/projects."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=100)
    starting_after: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        None, description="Cursor: the id of the last project of the previous page."
    )
    status: ProjectStatus | None = None


# --- responses -------------------------------------------------------------------------------------


class ErrorDetail(Out):
    type: str
    code: str
    message: str
    param: str | None


class ErrorResponse(Out):
    error: ErrorDetail


class ProjectError(Out):
    code: str
    message: str


class Rendition(Out):
    width: int
    height: int
    download_url: str


class ClipOut(Out):
    """A clip: the webhook's shape plus detail; URLs are presigned fresh on every read."""

    id: str
    object: Literal["clip"] = "clip"
    project_id: str
    rank: int
    title: str
    virality_score: float
    duration_seconds: float
    download_url: str | None
    platforms: dict[str, Rendition]
    start: float
    end: float
    sub_scores: dict[str, float]
    reason: str
    description: str
    hashtags: list[str]
    thumbnail_url: str | None
    transcript: dict[str, Any]
    created_at: datetime
    prompt: str | None = Field(None, description="Prompt clips only.")
    relevance: float | None = Field(None, description="Prompt clips only.")
    prompt_job_id: str | None = Field(None, description="Prompt clips only.")
    source_ranges: list[list[float]] | None = Field(
        None, description="Tightened clips: the [start, end] source seconds kept (times above are on the cut clip)."
    )


class ProjectOut(Out):
    id: str
    object: Literal["project"] = "project"
    status: ProjectStatus
    stage: ProjectStage
    progress: float
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    video_url: str | None
    upload_id: str | None
    max_clips: int
    caption_style: str
    platforms: list[str]
    min_duration: float
    max_duration: float
    language: str | None
    webhook_url: str | None
    metadata: dict[str, str]
    source_seconds: float | None
    error: ProjectError | None
    template_id: str | None = None
    style: dict[str, Any] | None = Field(None, description="The resolved render style.")
    clips: list[ClipOut] | None = Field(
        description="GET /v1/projects/{id}: the clips once the project completed, else null (always null in lists)."
    )


class ProjectList(Out):
    object: Literal["list"] = "list"
    data: list[ProjectOut]
    has_more: bool


class UploadPart(Out):
    part_number: int
    size: int
    upload_url: str


class UploadOut(Out):
    id: str
    object: Literal["upload"] = "upload"
    status: Literal["pending", "uploaded", "consumed"]
    filename: str
    content_type: str
    size: int
    multipart: bool
    method: Literal["PUT"] = "PUT"
    upload_url: str | None = Field(description="Single PUT target (null for multipart or once uploaded).")
    headers: dict[str, str] = Field(description="Headers the PUT must send.")
    part_size: int | None
    parts: list[UploadPart] | None = Field(description="One presigned PUT per part (multipart only).")
    expires_at: datetime
    created_at: datetime


class PromptJobOut(Out):
    id: str
    object: Literal["prompt_job"] = "prompt_job"
    project_id: str
    prompt: str
    max_clips: int
    status: ProjectStatus
    clip_ids: list[str]
    reason: str | None
    error: ProjectError | None
    created_at: datetime
    template_id: str | None = None
    style: dict[str, Any] | None = Field(None, description="The resolved render style of this job's clips.")


class TemplateOut(Out):
    id: str
    object: Literal["template"] = "template"
    name: str
    style: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class TemplateList(Out):
    object: Literal["list"] = "list"
    data: list[TemplateOut]
    has_more: bool


class PublicationOut(Out):
    id: str
    object: Literal["publication"] = "publication"
    clip_id: str
    project_id: str
    platform: str
    account_id: str
    title: str | None
    description: str | None
    privacy: str
    schedule_at: datetime | None
    status: Literal["queued", "uploading", "processing", "published", "failed"]
    post_id: str | None
    post_url: str | None
    error: ProjectError | None
    created_at: datetime
    updated_at: datetime


class PublicationList(Out):
    object: Literal["list"] = "list"
    data: list[PublicationOut]
    has_more: bool
