"""Notify: build project.completed (the seed's payload plus the project's fields) and queue its delivery."""

from __future__ import annotations

from ..webhooks import events
from .common import State, StepContext, carry, load_project, step


@step("notify")
def handler(ctx: StepContext) -> State:
    """State {project_id, tenant, …} -> + event_id (None when the project has no webhook_url)."""
    project = load_project(ctx.project_id)
    payload = events.project_completed(project)
    event_id = events.enqueue(project, "project.completed", payload)
    return carry(ctx.state, event_id=event_id)
