"""Finalize: write the Clip rows, mark the project completed and give its concurrency slot back."""

from __future__ import annotations

import dataclasses
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ..data import quotas, storage
from ..data.models import Clip, utcnow
from ..engine.segment import split_sentences
from ..engine.style import Style
from ..engine.tighten import clip_timeline
from ..engine.types import ScoredClip, Transcript, Word
from .common import (
    ProjectGone,
    State,
    StepContext,
    carry,
    ensure_still_there,
    load_project,
    render_style,
    step,
    update_project,
)


def version_record(version: int, row: Clip) -> dict[str, Any]:
    """One entry of Clip.versions: the rendered data of `row` as version `version`."""
    return {
        "version": version,
        "start": float(row.start),
        "end": float(row.end),
        "source_ranges": row.source_ranges or [[float(row.start), float(row.end)]],
        "duration_seconds": float(row.duration_seconds),
        "renditions": dict(row.renditions or {}),
        "thumbnail_key": row.thumbnail_key,
        "created_at": utcnow().isoformat(),
    }


def clip_rows(
    ctx: StepContext,
    scored: list[dict[str, Any]],
    rendered: list[dict[str, Any]],
    transcript: Transcript,
    *,
    first_rank: int = 0,
    prompt_job_id: str | None = None,
    style: Style | None = None,
) -> list[Clip]:
    """Build (unsaved) Clip rows from the scored clips and their renditions.

    A tightening `style` puts duration and word times on the cut timeline and records the kept ranges."""
    by_clip: dict[str, list[dict[str, Any]]] = {}
    for r in rendered:
        by_clip.setdefault(r["clip_id"], []).append(r)
    rows: list[Clip] = []
    for offset, entry in enumerate(scored):
        clip = ScoredClip.from_dict(entry["clip"])
        renditions: dict[str, dict[str, Any]] = {}
        thumbnail_key = None
        spoken: dict[str, Any] = {}
        for r in by_clip.get(entry["clip_id"], []):
            if "speakers" in r:
                spoken = r
            for name in r["platforms"]:
                renditions[name] = {"width": r["width"], "height": r["height"], "key": r["key"]}
            thumbnail_key = thumbnail_key or r.get("thumbnail_key")
        start, end = clip.candidate.start, clip.candidate.end
        timeline = clip_timeline(transcript, start, end, style.tighten if style else None)
        words = timeline.words
        rows.append(
            Clip(
                entry["clip_id"],
                project_id=ctx.project_id,
                tenant=ctx.tenant,
                rank=first_rank + offset,
                title=clip.title,
                description=clip.description,
                hashtags=list(clip.hashtags),
                virality_score=clip.virality_score,
                sub_scores=clip.sub_scores.to_dict(),
                reason=clip.reason,
                start=round(start, 3),
                end=round(end, 3),
                duration_seconds=round(timeline.duration, 2),
                transcript=clip_transcript(words, spoken),
                layout_keyframes=list(spoken.get("layout_keyframes", [])),
                renditions=renditions,
                thumbnail_key=thumbnail_key,
                prompt_job_id=prompt_job_id,
                prompt=clip.prompt,
                relevance=clip.relevance,
                quotes=clip.clip_quotes(transcript),
                source_ranges=[[round(a, 3), round(b, 3)] for a, b in timeline.ranges or [(start, end)]],
                status="ready",
                version=1,
            )
        )
        rows[-1].versions = [version_record(1, rows[-1])]
    return rows


def clip_transcript(words: list[Word], spoken: dict[str, Any]) -> dict[str, Any]:
    """The clip's transcript (clip seconds) with the render's speaker labels per word and per sentence."""
    labels = spoken.get("speakers") or []
    if len(labels) == len(words):
        words = [dataclasses.replace(w, speaker=lab) for w, lab in zip(words, labels, strict=True)]
    out: dict[str, Any] = {"text": " ".join(w.text.strip() for w in words), "words": [w.to_dict() for w in words]}
    said = spoken.get("sentence_speakers")
    sentences = split_sentences(Transcript("", 0.0, words)) if words and said is not None else []
    if sentences and len(sentences) == len(said or []):
        out["sentences"] = [
            {"text": s.text, "start": s.start, "end": s.end, "speaker": lab}
            for s, lab in zip(sentences, said or [], strict=True)
        ]
    return out


def save_rows_or_take_back(ctx: StepContext, rows: list[Clip]) -> None:
    """Save the rows; if the project vanished meanwhile, delete them (and its objects) and stop."""
    with Clip.batch_write() as batch:
        for row in rows:
            batch.save(row)
    try:
        ensure_still_there(ctx)
    except ProjectGone:
        with Clip.batch_write() as batch:
            for row in rows:
                batch.delete(row)
        raise


@step("finalize")
def handler(ctx: StepContext) -> State:
    """State + scored_key, rendered [rendition] -> {project_id, tenant, clip_ids}."""
    project = load_project(ctx.project_id)
    scored = storage.get_json(ctx.state["scored_key"])
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"]))
    rows = clip_rows(ctx, scored, ctx.state.get("rendered", []), transcript,
                     style=render_style(project, ctx.state)[0])
    save_rows_or_take_back(ctx, rows)
    update_project(ctx.project_id, status="completed", stage="completed", progress=100, completed_at=utcnow())
    quotas.release_project_slot(project)
    # intermediate files (audio, chunk transcripts) are not needed any more; source and transcript stay
    storage.delete_prefix(storage.work_key(ctx.tenant, ctx.project_id, "audio"))
    storage.delete_prefix(storage.work_key(ctx.tenant, ctx.project_id, "transcript-part-"))
    ctx.metrics.add_metric(name="VideosProcessed", unit=MetricUnit.Count, value=1)
    return carry(ctx.state, clip_ids=[r.clip_id for r in rows])
