"""The public shape of rows (projects, clips, …): rows → response models, presigning storage keys into fresh
URLs on every read. Shared by the API (`api/`) and webhook payloads (`webhooks/`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .api.schemas import (
    ChapterOut,
    ClipOut,
    ClipVersionOut,
    ProjectError,
    ProjectOut,
    PromptJobOut,
    PublicationOut,
    QualityOut,
    QuoteOut,
    Rendition,
    TemplateOut,
    UploadOut,
    UploadPart,
)
from .data import storage
from .data.models import Clip, Project, PromptJob, Publication, Template, Upload


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _error(err: Any) -> ProjectError | None:
    if err is None:
        return None
    return ProjectError(code=str(err.code), message=str(err.message))


def _num(value: Any, default: float | None = None) -> float | None:
    return default if value is None else float(value)


def _presigned(renditions: dict[str, dict[str, Any]] | None, filename: str,
               preferred: list[str] | None) -> tuple[dict[str, Rendition], str | None]:
    """Renditions with fresh presigned URLs, and the first preferred platform's URL."""
    platforms: dict[str, Rendition] = {}
    for name, rendition in (renditions or {}).items():
        url = storage.presign_get(rendition["key"], filename=f"{filename}-{name}.mp4")
        platforms[name] = Rendition(width=int(rendition["width"]), height=int(rendition["height"]), download_url=url)
    order = [p for p in (preferred or []) if p in platforms] + sorted(platforms)
    return platforms, (platforms[order[0]].download_url if order else None)


def clip_ranges(clip: Clip) -> list[list[float]]:
    """The clip's source ranges ([[start, end]] for clips from before edits existed)."""
    ranges = clip.source_ranges or [[clip.start, clip.end]]
    return [[float(a), float(b)] for a, b in ranges]


def clip_versions(clip: Clip, preferred: list[str] | None = None) -> list[ClipVersionOut]:
    out: list[ClipVersionOut] = []
    for v in clip.versions or []:
        platforms, url = _presigned(v.get("renditions"), f"{clip.clip_id}-v{v['version']}", preferred)
        out.append(ClipVersionOut(
            version=int(v["version"]), start=float(v["start"]), end=float(v["end"]),
            source_ranges=[[float(a), float(b)] for a, b in v.get("source_ranges") or [[v["start"], v["end"]]]],
            duration_seconds=float(v["duration_seconds"]), download_url=url, platforms=platforms,
            thumbnail_url=storage.presign_get(v["thumbnail_key"]) if v.get("thumbnail_key") else None,
            created_at=datetime.fromisoformat(v["created_at"]),
        ))
    return out


def clip_out(clip: Clip, preferred: list[str] | None = None) -> ClipOut:
    """The clip with presigned download URLs per platform (the first requested platform is `download_url`)."""
    platforms, download_url = _presigned(clip.renditions, clip.clip_id, preferred)
    thumbnail_url = storage.presign_get(clip.thumbnail_key) if clip.thumbnail_key else None
    return ClipOut(
        id=clip.clip_id,
        project_id=clip.project_id,
        rank=int(clip.rank),
        title=clip.title,
        virality_score=float(clip.virality_score),
        duration_seconds=float(clip.duration_seconds),
        download_url=download_url,
        platforms=platforms,
        start=float(clip.start),
        end=float(clip.end),
        sub_scores={k: float(v) for k, v in (clip.sub_scores or {}).items()},
        reason=clip.reason or "",
        layout_keyframes=list(clip.layout_keyframes or []),
        description=clip.description or "",
        hashtags=list(clip.hashtags or []),
        thumbnail_url=thumbnail_url,
        transcript=clip.transcript or {},
        quotes=[QuoteOut(**q) for q in clip.quotes or []],
        created_at=_utc(clip.created_at),
        prompt=clip.prompt,
        relevance=_num(clip.relevance),
        prompt_job_id=clip.prompt_job_id,
        status=clip.status or "ready",
        version=int(clip.version if clip.version is not None else 1),
        versions=clip_versions(clip, preferred),
        source_ranges=clip_ranges(clip),
        manual=bool(clip.manual),
        style=clip.style,
        layout=clip.layout,
        edit_error=_error(clip.edit_error),
    )


def clip_json(clip: Clip, preferred: list[str] | None = None) -> dict[str, Any]:
    """clip_out as JSON, without the prompt fields on non-prompt clips."""
    return clip_out(clip, preferred).model_dump(
        mode="json", exclude={"prompt", "relevance", "prompt_job_id"} if clip.prompt_job_id is None else set()
    )


CLIP_ORDERS: dict[str, Any] = {
    "rank": lambda c: (float(c.rank), c.clip_id),
    "score": lambda c: (-float(c.virality_score), float(c.rank), c.clip_id),
    "timeline": lambda c: (float(c.start), float(c.end), c.clip_id),
}


def project_clips(project: Project, order: str = "rank") -> list[Clip]:
    """The project's clips by rank (the scorer's order), score (highest first) or timeline (by start)."""
    return sorted(Clip.by_project.query(project.project_id), key=CLIP_ORDERS[order])


def project_out(project: Project, with_clips: bool = True, order: str = "rank") -> dict[str, Any]:
    """The project as JSON; `clips` holds the clips once completed (null before)."""
    clips = None
    if with_clips and project.status == "completed":
        clips = [clip_json(c, list(project.platforms or [])) for c in project_clips(project, order)]
    out = ProjectOut(
        id=project.project_id,
        status=project.status,
        stage=project.stage,
        progress=float(project.progress or 0),
        created_at=_utc(project.created_at),
        updated_at=_utc(project.updated_at),
        completed_at=_utc(project.completed_at),
        video_url=project.video_url,
        upload_id=project.upload_id,
        max_clips=int(project.max_clips),
        caption_style=project.caption_style,
        layout=project.layout or "auto",
        platforms=list(project.platforms or []),
        min_duration=float(project.min_duration),
        max_duration=float(project.max_duration),
        language=project.language,
        webhook_url=project.webhook_url,
        metadata=dict(project.metadata or {}),
        source_seconds=_num(project.source_seconds),
        error=_error(project.error),
        chapters=[ChapterOut(**c) for c in project.chapters] if project.chapters is not None else None,
        quality=QualityOut(**project.quality) if project.quality else None,
        template_id=project.template_id,
        style=project.style,
        clips=None,
    ).model_dump(mode="json")
    out["clips"] = clips
    return out


def prompt_job_out(job: PromptJob) -> PromptJobOut:
    return PromptJobOut(
        id=job.job_id,
        project_id=job.project_id,
        prompt=job.prompt,
        max_clips=int(job.max_clips),
        status=job.status,
        clip_ids=list(job.clip_ids or []),
        reason=job.reason,
        error=_error(job.error),
        created_at=_utc(job.created_at),
        template_id=job.template_id,
        style=job.style,
    )


def template_out(template: Template) -> TemplateOut:
    return TemplateOut(
        id=template.template_id,
        name=template.name,
        style=dict(template.style or {}),
        created_at=_utc(template.created_at),
        updated_at=_utc(template.updated_at),
    )


def publication_out(pub: Publication) -> PublicationOut:
    return PublicationOut(
        id=pub.publication_id,
        clip_id=pub.clip_id,
        project_id=pub.project_id,
        platform=pub.platform,
        account_id=pub.account_id,
        title=pub.title,
        description=pub.description,
        privacy=pub.privacy,
        schedule_at=_utc(pub.schedule_at),
        status=pub.status,
        post_id=pub.post_id,
        post_url=pub.post_url,
        error=_error(pub.error),
        created_at=_utc(pub.created_at),
        updated_at=_utc(pub.updated_at),
        tags=list(pub.tags) if pub.tags is not None else None,
    )


def upload_out(upload: Upload, *, upload_url: str | None = None, parts: list[UploadPart] | None = None,
               expires_at: datetime | None = None) -> UploadOut:
    multipart = upload.multipart_upload_id is not None
    return UploadOut(
        id=upload.upload_id,
        status=upload.status,
        filename=upload.filename,
        content_type=upload.content_type,
        size=int(upload.size),
        multipart=multipart,
        upload_url=upload_url,
        headers={} if multipart else {"Content-Type": upload.content_type},
        part_size=int(upload.part_size) if upload.part_size else None,
        parts=parts,
        expires_at=expires_at or _utc(upload.created_at),
        created_at=_utc(upload.created_at),
    )
