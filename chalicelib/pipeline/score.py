"""Score: sentences -> candidates -> virality scores -> the top clips, and the render jobs for the Map."""

from __future__ import annotations

from ..data import storage
from ..data.models import Project
from ..engine import font_choice, segment, topics
from ..engine.clipper import clip_id_for, plan_render_jobs
from ..engine.platforms import DEFAULT_PLATFORMS
from ..engine.score import assess_quality, score_candidates, select_clips
from ..engine.types import ClipOptions, ScoredClip, Transcript
from ..settings import get_settings
from .common import (
    State,
    StepContext,
    carry,
    ensure_still_there,
    load_project,
    render_style,
    set_stage,
    step,
    update_project,
    workspace,
)


def options_of(project: Project) -> ClipOptions:
    """The project's request fields as validated ClipOptions."""
    return ClipOptions(
        max_clips=int(project.max_clips),
        caption_style=project.caption_style,
        platforms=list(project.platforms or DEFAULT_PLATFORMS),
        min_duration=float(project.min_duration),
        max_duration=float(project.max_duration),
        language=project.language,
        layout=project.layout or "auto",
    ).validate()


def render_jobs(state_clips: list[tuple[str, ScoredClip]], platforms: list[str]) -> list[dict]:
    """Clips x distinct output sizes, as small dicts for the render Map (each knows the total)."""
    jobs = [j.to_dict() for j in plan_render_jobs([cid for cid, _ in state_clips], platforms)]
    for job in jobs:
        job["of"] = len(jobs)
    return jobs


@step("score")
def handler(ctx: StepContext) -> State:
    """State + transcript_key -> + scored_key, renders [render job]."""
    settings = get_settings()
    project = load_project(ctx.project_id)
    options = options_of(project)
    set_stage(ctx.project_id, "scoring", 45)
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"]))
    style = render_style(project, ctx.state)[0]
    if style.preset != "none":
        font_choice.caption_font(transcript.text, style.captions.font)  # language_unsupported before rendering
    sentences = segment.split_sentences(transcript)
    candidates = segment.candidates_for(transcript, sentences, options)
    # Chapters are stored with the transcript (prompt search reuses them) and shown on the project.
    transcript.chapters = topics.segment_topics(sentences)
    storage.put_json(ctx.state["transcript_key"], transcript.to_dict())
    update_project(ctx.project_id, chapters=[c.public() for c in transcript.chapters])
    with workspace("score") as work:
        wav = storage.get_file(ctx.state["audio_key"], work / "audio.wav") if ctx.state.get("audio_key") else None
        scored = score_candidates(transcript, sentences, candidates, wav, settings=settings)
    chosen = select_clips(scored, options.max_clips)
    update_project(ctx.project_id, quality=assess_quality(chosen))
    clips = [(clip_id_for(ctx.project_id, c.candidate.start, c.candidate.end), c) for c in chosen]
    scored_key = ctx.put_json(
        storage.work_key(ctx.tenant, ctx.project_id, "scored.json"),
        [{"clip_id": cid, "clip": c.to_dict()} for cid, c in clips],
    )
    renders = render_jobs(clips, options.platforms)
    set_stage(ctx.project_id, "rendering", 55)
    ensure_still_there(ctx)
    return carry(
        ctx.state,
        source_key=ctx.state["source_key"],
        transcript_key=ctx.state["transcript_key"],
        scored_key=scored_key,
        renders=renders,
    )
