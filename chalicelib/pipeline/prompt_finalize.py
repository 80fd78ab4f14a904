"""Prompt branch, last step: write the prompt's Clip rows, complete the job, send prompt.completed."""

from __future__ import annotations

from ..data import storage
from ..data.models import Clip, PromptJob
from ..engine.types import Transcript
from ..webhooks import events
from .common import State, StepContext, carry, load_project, load_prompt_job, render_style, step
from .finalize import clip_rows, save_rows_or_take_back


@step("prompt_finalize")
def handler(ctx: StepContext) -> State:
    """State + scored_key, rendered -> {project_id, tenant, prompt_job_id, clip_ids}."""
    project = load_project(ctx.project_id)
    job_id = str(ctx.state["prompt_job_id"])
    job = load_prompt_job(job_id)
    scored = storage.get_json(ctx.state["scored_key"])
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"]))
    existing = list(Clip.by_project.query(ctx.project_id))
    first_rank = max((int(c.rank) for c in existing), default=-1) + 1
    rows = clip_rows(
        ctx, scored, ctx.state.get("rendered", []), transcript, first_rank=first_rank, prompt_job_id=job_id,
        style=render_style(project, ctx.state)[0],
    )
    save_rows_or_take_back(ctx, rows)
    clip_ids = [r.clip_id for r in rows]
    job.update(
        actions=[
            PromptJob.status.set("completed"),
            PromptJob.clip_ids.set(clip_ids),
            PromptJob.reason.set(ctx.state.get("reason") if not clip_ids else None),
        ],
        condition=PromptJob.job_id.exists(),
    )  # update() loads the new values into `job`
    events.enqueue(project, "prompt.completed", events.prompt_completed(project, job))
    return carry(ctx.state, clip_ids=clip_ids)
