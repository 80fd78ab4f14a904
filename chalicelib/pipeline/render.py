"""Render (one Map iteration): frame, caption and encode one clip at one output size, plus its thumbnail."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.exceptions import UpdateError

from ..data import storage
from ..data.models import Project
from ..engine.clipper import RenderJob, RenderResult, render_one
from ..engine.types import ScoredClip, Transcript
from ..settings import get_settings
from .common import State, StepContext, ensure_still_there, load_project, render_style, step, workspace

RENDER_PROGRESS_SPAN = 35  # progress moves from 55 to 90 across all renders


RENDER_URL_SECONDS = 3600  # the presigned source URL outlives the function's 900 s timeout


def render_source(src_key: str, work: Path) -> str | Path:
    """What the engine reads: a presigned URL (ffmpeg and PyAV seek to the clip with HTTP range requests and
    read only its range plus the MP4 index), or with render_source=download a local copy of the whole source."""
    if get_settings().render_source == "url":
        return storage.presign_get(src_key, expires_in=RENDER_URL_SECONDS)
    return storage.get_file(src_key, work / "source" / src_key.rsplit("/", 1)[-1])


@step("render")
def handler(ctx: StepContext) -> State:
    """{project_id, tenant, source_key, transcript_key, scored_key, job} -> the rendition's keys and size.

    An entry of an edit (the render-only branch) carries its version (objects go under v<N>/), caption word
    fixes, its resolved style (+ watermark key) and layout; other renders take the prompt job's or the
    project's style (common.render_style)."""
    project = load_project(ctx.project_id)
    job = RenderJob.from_dict({k: v for k, v in ctx.state["job"].items() if k != "of"})
    scored = storage.get_json(ctx.state["scored_key"])
    entry = next(e for e in scored if e["clip_id"] == job.clip_id)
    clip = ScoredClip.from_dict(entry["clip"])
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"])).with_fixes(
        entry.get("word_fixes")
    )
    version = entry.get("version")  # None: the project's own first render
    style, watermark_key = render_style(project, ctx.state, entry)
    with workspace("render") as work:
        src = render_source(ctx.state["source_key"], work)
        logo = storage.get_file(watermark_key, work / "watermark" / watermark_key.rsplit("/", 1)[-1]) \
            if watermark_key and style.watermark is not None else None
        layout = entry.get("layout")
        result = render_one(
            src, clip, transcript, job, style, work / "out", settings=get_settings(), watermark=logo,
            layout=layout if isinstance(layout, str) else project.layout or "auto",
            layout_spans=layout_spans(layout, clip.candidate.end - clip.candidate.start),
        )
        key = ctx.put_file(
            storage.clip_video_key(ctx.tenant, ctx.project_id, job.clip_id, result.width, result.height, version),
            result.video,
            "video/mp4",
        )
        thumb_key = None
        if result.thumbnail is not None:
            thumb_key = ctx.put_file(
                storage.clip_thumbnail_key(ctx.tenant, ctx.project_id, job.clip_id, version), result.thumbnail,
                "image/jpeg",
            )
    share = RENDER_PROGRESS_SPAN / max(1, int(ctx.state["job"].get("of", 1)))
    with contextlib.suppress(UpdateError):  # a vanished project is handled by the check below
        if version is None:  # an edit leaves the completed project's progress alone
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
        **(speaker_fields(result) if job.with_thumbnail else {}),  # once per clip: the state stays small
    }


def layout_spans(layout: Any, duration: float) -> list[tuple[float, float, str]] | None:
    """An edit's layout keyframes [{at, layout}] (clip seconds, sorted) as (start, end, layout) spans."""
    if not isinstance(layout, list) or not layout:
        return None
    marks = sorted((max(0.0, float(k["at"])), str(k["layout"])) for k in layout)
    if marks[0][0] > 0:  # before the first keyframe: the first keyframe's layout
        marks[0] = (0.0, marks[0][1])
    ends = [at for at, _ in marks[1:]] + [duration]
    return [(a, min(b, duration), lay) for (a, lay), b in zip(marks, ends, strict=True) if min(b, duration) > a]


def speaker_fields(result: RenderResult) -> dict[str, Any]:
    """The clip's layout keyframes and compact speaker labels (one per word, one per sentence)."""
    return {
        "layout_keyframes": [k.to_dict() for k in result.keyframes],
        "speakers": [w.speaker for w in result.words or []],
        "sentence_speakers": [s.get("speaker") for s in result.sentences],
    }
