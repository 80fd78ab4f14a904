"""Render (one Map iteration): frame, caption and encode one clip at one output size, plus its thumbnail."""

from __future__ import annotations

import contextlib

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.exceptions import UpdateError

from ..data import storage
from ..data.models import Project
from ..engine.clipper import RenderJob, render_one
from ..engine.types import ScoredClip, Transcript
from ..settings import get_settings
from .common import State, StepContext, ensure_still_there, load_project, render_style, step, workspace

RENDER_PROGRESS_SPAN = 35  # progress moves from 55 to 90 across all renders


@step("render")
def handler(ctx: StepContext) -> State:
    """{project_id, tenant, source_key, transcript_key, scored_key, job} -> the rendition's keys and size."""
    project = load_project(ctx.project_id)
    job = RenderJob.from_dict({k: v for k, v in ctx.state["job"].items() if k != "of"})
    scored = storage.get_json(ctx.state["scored_key"])
    entry = next(e for e in scored if e["clip_id"] == job.clip_id)
    clip = ScoredClip.from_dict(entry["clip"])
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"]))
    style, watermark_key = render_style(project, ctx.state)
    with workspace("render") as work:
        src_key = ctx.state["source_key"]
        src = storage.get_file(src_key, work / "source" / src_key.rsplit("/", 1)[-1])
        logo = storage.get_file(watermark_key, work / "watermark" / watermark_key.rsplit("/", 1)[-1]) \
            if watermark_key and style.watermark is not None else None
        result = render_one(
            src, clip, transcript, job, style, work / "out", settings=get_settings(), watermark=logo
        )
        key = ctx.put_file(
            storage.clip_video_key(ctx.tenant, ctx.project_id, job.clip_id, result.width, result.height),
            result.video,
            "video/mp4",
        )
        thumb_key = None
        if result.thumbnail is not None:
            thumb_key = ctx.put_file(
                storage.clip_thumbnail_key(ctx.tenant, ctx.project_id, job.clip_id), result.thumbnail, "image/jpeg"
            )
    share = RENDER_PROGRESS_SPAN / max(1, int(ctx.state["job"].get("of", 1)))
    with contextlib.suppress(UpdateError):  # a vanished project is handled by the check below
        Project(ctx.project_id).update(
            actions=[Project.progress.add(round(share, 2))], condition=Project.project_id.exists()
        )
    ensure_still_there(ctx)
    ctx.metrics.add_metric(name="ClipsRendered", unit=MetricUnit.Count, value=1)
    return {
        "clip_id": job.clip_id,
        "clip_index": job.clip_index,
        "width": result.width,
        "height": result.height,
        "platforms": list(result.platforms),
        "key": key,
        "thumbnail_key": thumb_key,
        "duration": round(result.duration, 3),
        "layout": result.layout,
    }
