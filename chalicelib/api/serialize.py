"""Rows → response models (presigning storage keys into fresh URLs on every read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..data import storage
from ..data.models import Clip, Project, PromptJob, Publication, Template, Upload
from .schemas import (
    ClipOut,
    ProjectError,
    ProjectOut,
    PromptJobOut,
    PublicationOut,
    Rendition,
    TemplateOut,
    UploadOut,
    UploadPart,
)


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


def clip_out(clip: Clip, preferred: list[str] | None = None) -> ClipOut:
    """The clip with presigned download URLs per platform (the first requested platform is `download_url`)."""
    renditions: dict[str, dict[str, Any]] = clip.renditions or {}
    platforms: dict[str, Rendition] = {}
    for name, rendition in renditions.items():
        url = storage.presign_get(rendition["key"], filename=f"{clip.clip_id}-{name}.mp4")
        platforms[name] = Rendition(width=int(rendition["width"]), height=int(rendition["height"]), download_url=url)
    order = [p for p in (preferred or []) if p in platforms] + sorted(platforms)
    download_url = platforms[order[0]].download_url if order else None
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
        description=clip.description or "",
        hashtags=list(clip.hashtags or []),
        thumbnail_url=thumbnail_url,
        transcript=clip.transcript or {},
        created_at=_utc(clip.created_at),
        prompt=clip.prompt,
        relevance=_num(clip.relevance),
        prompt_job_id=clip.prompt_job_id,
        source_ranges=[[float(a), float(b)] for a, b in clip.source_ranges] if clip.source_ranges else None,
    )


def clip_json(clip: Clip, preferred: list[str] | None = None) -> dict[str, Any]:
    """clip_out as JSON, without the prompt fields on non-prompt clips."""
    return clip_out(clip, preferred).model_dump(
        mode="json", exclude={"prompt", "relevance", "prompt_job_id"} if clip.prompt_job_id is None else set()
    )  # source_ranges is null unless the clip was tightened


def project_clips(project: Project) -> list[Clip]:
    return sorted(Clip.by_project.query(project.project_id), key=lambda c: (float(c.rank), c.clip_id))


def project_out(project: Project, with_clips: bool = True) -> dict[str, Any]:
    """The project as JSON; `clips` holds the clips once completed (null before)."""
    clips = None
    if with_clips and project.status == "completed":
        clips = [clip_json(c, list(project.platforms or [])) for c in project_clips(project)]
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
        platforms=list(project.platforms or []),
        min_duration=float(project.min_duration),
        max_duration=float(project.max_duration),
        language=project.language,
        webhook_url=project.webhook_url,
        metadata=dict(project.metadata or {}),
        source_seconds=_num(project.source_seconds),
        error=_error(project.error),
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
