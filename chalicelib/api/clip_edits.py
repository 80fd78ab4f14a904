"""Editing clips: check the project and its kept source, snap ranges, record the pending version and start
the render-only branch of the pipeline (EditPlan -> EditRender -> EditFinalize)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from ..data import storage
from ..data.models import Clip, Project, PromptJob, utcnow
from ..engine.edit import SnappedRange, snap_range
from ..engine.errors import InvalidOptions
from ..engine.platforms import DEFAULT_PLATFORMS, get_platforms
from ..engine.style import Style
from ..engine.types import Transcript
from ..settings import get_settings
from .errors import ApiError
from .executions import start_pipeline
from .schemas import LayoutKeyframe
from .styles import resolve_request_style, store_watermark

EDGE_SLACK = 0.05  # seconds past the source's end still accepted (probe vs. transcript rounding)


def editable(project: Project) -> None:
    """409 unless the project completed and still keeps its source media and transcript."""
    if project.status == "processing":
        raise ApiError(409, "project_processing", "The project is still processing; edit its clips once completed.")
    if project.status != "completed":
        raise ApiError(409, "project_failed", "The project failed; it has no clips to edit.")
    days = get_settings().source_retention_days
    expired = days > 0 and project.completed_at is not None and utcnow() - project.completed_at > timedelta(days=days)
    if expired or not project.source_key or not project.transcript_key or not storage.exists(project.source_key):
        raise ApiError(409, "source_expired",
                       "The project's source media is no longer kept, so its clips cannot be re-rendered.")


def load_transcript(project: Project) -> Transcript:
    """The project's kept transcript (source seconds)."""
    data = storage.get_json(str(project.transcript_key))
    return Transcript.from_dict({"language": "", "duration": float(project.source_seconds or 0), **data})


def platform_cap(project: Project) -> float:
    """The longest clip every one of the project's platforms accepts."""
    return min(p.max_duration for p in get_platforms(list(project.platforms or DEFAULT_PLATFORMS)))


def resolve_range(project: Project, transcript: Transcript, start: float, end: float) -> SnappedRange:
    """422 naming the field for a range that is empty, outside the source or over the platforms' limit;
    otherwise the range snapped to pauses around whole words."""
    source_end = float(project.source_seconds or transcript.duration)
    if start >= end:
        raise ApiError(422, "invalid_range", f"start ({start:g}) must be before end ({end:g}).", param="start")
    if start >= source_end:
        raise ApiError(422, "range_outside_source", f"start ({start:g}) is past the source's end "
                       f"({source_end:.3f} s).", param="start")
    if end > source_end + EDGE_SLACK:
        raise ApiError(422, "range_outside_source", f"end ({end:g}) is past the source's end ({source_end:.3f} s).",
                       param="end")
    try:
        snapped = snap_range(transcript, start, end)
    except InvalidOptions as exc:
        raise ApiError(422, "invalid_range", exc.message[:1].upper() + exc.message[1:] + ".", param="start") from None
    cap = platform_cap(project)
    if snapped.duration > cap + 1e-6:
        raise ApiError(422, "clip_too_long", f"The clip would last {snapped.duration:.1f} s; the project's "
                       f"platforms allow {cap:g} s.", param="end")
    return snapped


def caption_preset(style: dict[str, Any] | None, fallback: str) -> str:
    """The clip's caption preset: style.captions.preset, else the project's caption_style."""
    return str(((style or {}).get("captions") or {}).get("preset") or fallback)


@dataclass
class EditStyle:
    """The resolved style of a version to render, its watermark object and whether this edit stored it."""

    style: dict[str, Any]
    watermark_key: str | None
    template_id: str | None
    stored: bool = False

    def discard(self) -> None:
        """Remove a watermark this edit stored (the edit did not happen)."""
        if self.stored and self.watermark_key:
            storage.delete_prefix(self.watermark_key)


def current_style(clip: Clip | None, project: Project) -> EditStyle:
    """The style the clip's latest version rendered with: its own, else its prompt job's, else the project's
    (rows from before styles: the project's caption_style as the preset)."""
    if clip is not None and clip.style:
        return EditStyle(dict(clip.style), clip.watermark_key, clip.template_id)
    if clip is not None and clip.prompt_job_id:
        try:
            job = PromptJob.get(clip.prompt_job_id, consistent_read=True)
            if job.style:
                return EditStyle(dict(job.style), job.watermark_key, job.template_id)
        except PromptJob.DoesNotExist:
            pass
    if project.style:
        return EditStyle(dict(project.style), project.watermark_key, project.template_id)
    return EditStyle({"captions": {"preset": project.caption_style}}, None, None)


def edit_style(tenant: str, clip: Clip | None, project: Project, template_id: str | None, inline: Style | None,
               name: str) -> EditStyle:
    """base (the clip's current style) < template < inline fields, validated (400 naming style.…; another
    account's template: 404 naming template_id); a changed watermark is fetched, checked and stored as `name`."""
    base = current_style(clip, project)
    if template_id is None and inline is None:
        return base
    style = resolve_request_style(tenant, template_id, inline, project.caption_style, base=base.style)
    out = EditStyle(style.to_dict(), None, template_id or base.template_id)
    if style.watermark is not None:
        if base.watermark_key and style.watermark.model_dump(mode="json", exclude_none=True) == base.style.get(
            "watermark"
        ):
            out.watermark_key = base.watermark_key  # the same image, already checked
        else:
            out.watermark_key = store_watermark(tenant, project.project_id, style, name)
            out.stored = True
    return out


def layout_value(layout: str | list[LayoutKeyframe] | None) -> str | list[dict[str, Any]] | None:
    if isinstance(layout, list):
        return [k.model_dump() for k in sorted(layout, key=lambda k: k.at)]
    return layout


def next_version(clip: Clip) -> int:
    numbers = [int(v["version"]) for v in clip.versions or []] + [int(clip.version or 0)]
    return max(numbers) + 1


def pending_edit(clip: Clip, project: Project, *, start: float, end: float, word_fixes: dict[str, str],
                 style: EditStyle, layout: Any) -> dict[str, Any]:
    """The data of the version to render (what EditPlan reads); source_ranges become the kept ranges once
    rendered (several when the style tightens)."""
    return {
        "version": next_version(clip),
        "start": round(start, 3),
        "end": round(end, 3),
        "source_ranges": [[round(start, 3), round(end, 3)]],
        "word_fixes": word_fixes,
        "style": style.style,
        "watermark_key": style.watermark_key,
        "template_id": style.template_id,
        "layout": layout,
        "caption_style": caption_preset(style.style, project.caption_style),
        "requested_at": utcnow().isoformat(),
    }


def start_render(clip: Clip, pending: dict[str, Any]) -> None:
    """Start the render-only branch for `pending` (the clip row already carries it, status rendering)."""
    name = f"{clip.clip_id}-v{pending['version']}-{secrets.token_hex(4)}"
    arn = start_pipeline(name, {"project_id": clip.project_id, "tenant": clip.tenant,
                                "clip_edit": {"clip_id": clip.clip_id, "version": pending["version"]}})
    clip.update(actions=[Clip.pending.set({**pending, "execution_arn": arn})])


def begin_edit(clip: Clip, pending: dict[str, Any]) -> None:
    """Mark the clip rendering with `pending` (409 if an edit already renders) and start the render."""
    try:
        clip.update(
            actions=[Clip.status.set("rendering"), Clip.pending.set(pending)],
            condition=Clip.clip_id.exists() & (Clip.status.does_not_exist() | (Clip.status != "rendering")),
        )
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise ApiError(409, "clip_rendering",
                           "An edit of this clip is still rendering; wait for clip.updated.") from None
        raise
    try:
        start_render(clip, pending)
    except Exception:
        clip.update(actions=[Clip.status.set("ready" if int(clip.version or 0) else "failed"), Clip.pending.remove()])
        raise
