"""EditPlan (render-only branch, first step): the pending version of one clip -> its render jobs.

No transcription and no scoring of edited clips: the kept transcript and the clip's own score are reused.
A manual clip (POST /v1/projects/{id}/clips) is scored and titled here on its window, like any candidate.
"""

from __future__ import annotations

import dataclasses

from ..data import storage
from ..data.models import Clip
from ..engine import segment
from ..engine.edit import window_candidate
from ..engine.score import score_candidates
from ..engine.types import ScoredClip, SubScores, Transcript
from ..settings import get_settings
from .common import State, StepContext, carry, ensure_still_there, load_clip, load_project, pending_of, step
from .score import options_of, render_jobs


def kept_score(clip: Clip, transcript: Transcript, start: float, end: float) -> ScoredClip:
    """The clip's own score, title and text over its new range (an edit is not re-scored)."""
    sentences = segment.split_sentences(transcript)
    candidate = window_candidate(transcript, sentences, start, end)
    subs = clip.sub_scores or {}
    return ScoredClip(
        candidate=candidate, virality_score=int(clip.virality_score),
        sub_scores=SubScores(**{f.name: float(subs.get(f.name, 0)) for f in dataclasses.fields(SubScores)}),
        reason=clip.reason or "", title=clip.title, description=clip.description or "",
        hashtags=list(clip.hashtags or []), relevance=clip.relevance, prompt=clip.prompt,
    )


@step("edit_plan")
def handler(ctx: StepContext) -> State:
    """{project_id, tenant, edit_clip_id, edit_version} -> + source/transcript/scored keys, renders."""
    project = load_project(ctx.project_id)
    version = int(ctx.state["edit_version"])
    clip = load_clip(str(ctx.state["edit_clip_id"]))
    pending = pending_of(clip, version)
    transcript = Transcript.from_dict(storage.get_json(project.transcript_key))
    start, end = float(pending["start"]), float(pending["end"])
    if clip.manual and int(clip.version or 0) == 0:  # never scored yet
        sentences = segment.split_sentences(transcript)
        candidate = window_candidate(transcript, sentences, start, end)
        scored = score_candidates(transcript, sentences, [candidate], None, settings=get_settings())[0]
    else:
        scored = kept_score(clip, transcript, start, end)
    entry = {
        "clip_id": clip.clip_id, "clip": scored.to_dict(), "version": version,
        "caption_style": pending.get("caption_style") or project.caption_style,
        "word_fixes": pending.get("word_fixes") or {}, "source_ranges": pending.get("source_ranges"),
        "style": pending.get("style"), "watermark_key": pending.get("watermark_key"), "layout": pending.get("layout"),
    }
    scored_key = ctx.put_json(storage.work_key(ctx.tenant, ctx.project_id, f"edit-{clip.clip_id}-v{version}.json"),
                              [entry])
    ensure_still_there(ctx)
    return carry(
        ctx.state, source_key=project.source_key, transcript_key=project.transcript_key, scored_key=scored_key,
        renders=render_jobs([(clip.clip_id, scored)], options_of(project).platforms),
    )
