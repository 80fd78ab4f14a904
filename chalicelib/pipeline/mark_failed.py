"""MarkFailed: the Catch target. Records error {code, message}, frees the slot, sends project.failed."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.exceptions import UpdateError

from ..data import quotas
from ..data.models import Clip, Project, PromptJob, utcnow
from ..engine import errors as engine_errors
from ..webhooks import events
from .common import ProjectGone, State, StepContext, carry, logger, step, update_project

# Step Functions' own error names, mapped to codes a caller can act on.
STATES_ERRORS: dict[str, tuple[str, str]] = {
    "States.Timeout": ("timeout", "a processing step took too long"),
    "States.TaskFailed": ("internal_error", "a processing step failed"),
    "States.DataLimitExceeded": ("internal_error", "a processing step produced too much state"),
    "Lambda.ServiceException": ("service_unavailable", "the processing service was unavailable; try again"),
    "Lambda.TooManyRequestsException": ("service_unavailable", "the processing service was busy; try again"),
    "Lambda.SdkClientException": ("service_unavailable", "the processing service was unreachable; try again"),
    "TransientError": ("service_unavailable", "a temporary problem persisted; try again"),
}


def error_from(caught: dict[str, Any] | None) -> tuple[str, str]:
    """(code, message) from a Catch's {Error, Cause}; engine errors keep their code and one-line message."""
    caught = caught or {}
    name = str(caught.get("Error") or "States.TaskFailed")
    message = ""
    try:
        cause = json.loads(caught.get("Cause") or "{}")
        message = str(cause.get("errorMessage", "")) if isinstance(cause, dict) else ""
    except (TypeError, ValueError):
        message = ""
    cls = getattr(engine_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, engine_errors.EngineError):
        return cls.code, (message.splitlines()[0] if message else cls.code.replace("_", " "))
    if name in STATES_ERRORS:
        return STATES_ERRORS[name]
    if name == ProjectGone.__name__:
        return ProjectGone.code, "the project was deleted"
    # anything else is a bug on our side: never leak its internals
    return "internal_error", "an internal error stopped processing"


def fail_prompt_job(job_id: str, code: str, message: str) -> None:
    try:
        job = PromptJob.get(job_id, consistent_read=True)
    except PromptJob.DoesNotExist:
        return
    job.update(
        actions=[PromptJob.status.set("failed"), PromptJob.error.set({"code": code, "message": message})],
        condition=PromptJob.job_id.exists(),
    )


def fail_clip_edit(clip_id: str, code: str, message: str) -> None:
    """An edit's render failed: the clip keeps its previous version (a manual clip without one: failed)."""
    try:
        clip = Clip.get(clip_id, consistent_read=True)
    except Clip.DoesNotExist:
        return
    with contextlib.suppress(UpdateError):  # deleted meanwhile, or no longer rendering
        clip.update(
            actions=[Clip.status.set("ready" if int(clip.version or 0) else "failed"), Clip.pending.remove(),
                     Clip.edit_error.set({"code": code, "message": message})],
            condition=Clip.status == "rendering",
        )


def fail_project(project_id: str, code: str, message: str) -> bool:
    """Mark the project failed (unless it already ended or vanished); True if this call did."""
    try:
        project = Project.get(project_id, consistent_read=True)
    except Project.DoesNotExist:
        return False
    if project.status != "processing":
        return False
    try:
        project = update_project(
            project_id,
            status="failed",
            stage="failed",
            error={"code": code, "message": message},
            completed_at=utcnow(),
        )
    except ProjectGone:
        return False
    quotas.release_project_slot(project)
    events.enqueue(project, "project.failed", events.project_failed(project))
    return True


@step("mark_failed")
def handler(ctx: StepContext) -> State:
    """State + error {Error, Cause} -> {project_id, error: {code, message}}."""
    code, message = error_from(ctx.state.get("error"))
    logger.info("marking failed", extra={"code": code})
    if code == ProjectGone.code:
        return carry(ctx.state, error={"code": code, "message": message})
    if ctx.state.get("edit_clip_id"):
        fail_clip_edit(str(ctx.state["edit_clip_id"]), code, message)
    elif ctx.state.get("prompt_job_id"):
        fail_prompt_job(str(ctx.state["prompt_job_id"]), code, message)
    elif fail_project(ctx.project_id, code, message):
        ctx.metrics.add_metric(name=f"Failures_{code}", unit=MetricUnit.Count, value=1)
    return carry(ctx.state, error={"code": code, "message": message})
