"""Prompt branch, step 1: find the moments matching a prompt in a processed project's transcript."""

from __future__ import annotations

from ..data import storage
from ..engine import segment
from ..engine.clipper import clip_id_for
from ..engine.prompt_search import find_moments
from ..engine.types import Transcript
from ..settings import get_settings
from .common import State, StepContext, carry, ensure_still_there, load_project, load_prompt_job, step
from .score import options_of, render_jobs


@step("prompt_search")
def handler(ctx: StepContext) -> State:
    """{project_id, tenant, prompt_job_id} -> + source_key, transcript_key, scored_key, renders, reason."""
    project = load_project(ctx.project_id)
    job_id = str(ctx.state["prompt_job_id"])
    job = load_prompt_job(job_id)
    options = options_of(project)
    transcript = Transcript.from_dict(storage.get_json(project.transcript_key))
    sentences = segment.split_sentences(transcript)
    chosen, reason = find_moments(
        transcript,
        sentences,
        job.prompt,
        int(job.max_clips),
        options.min_duration,
        options.effective_max_duration,
        settings=get_settings(),
    )
    clips = [(clip_id_for(job_id, c.candidate.start, c.candidate.end, job.prompt), c) for c in chosen]
    scored_key = ctx.put_json(
        storage.work_key(ctx.tenant, ctx.project_id, f"prompt-{job_id}.json"),
        [{"clip_id": cid, "clip": c.to_dict()} for cid, c in clips],
    )
    ensure_still_there(ctx)
    return carry(
        ctx.state,
        source_key=project.source_key,
        transcript_key=project.transcript_key,
        scored_key=scored_key,
        renders=render_jobs(clips, options.platforms),
        reason=reason,
    )
