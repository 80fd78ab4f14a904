"""Sweeper (scheduled): nothing stays "processing" forever.

Fails every project still marked processing whose execution has ended (failed, timed out, aborted,
or even succeeded without completing the project) or cannot be found, plus projects that never got
an execution within the grace period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from ..data.models import IN_FLIGHT, Project, utcnow
from .common import execution_status, logger, new_metrics
from .mark_failed import fail_project

GRACE = timedelta(minutes=10)  # a project younger than this may still be starting

ENDED: dict[str, tuple[str, str]] = {
    "FAILED": ("execution_failed", "processing stopped unexpectedly"),
    "TIMED_OUT": ("timeout", "processing took longer than allowed"),
    "ABORTED": ("execution_aborted", "processing was stopped"),
    "SUCCEEDED": ("execution_incomplete", "processing ended without completing the project"),
}


def verdict(project: Project, now: Any) -> tuple[str, str] | None:
    """(code, message) if `project` must be failed, else None."""
    if not project.execution_arn:
        return ("execution_missing", "processing never started") if now - project.created_at > GRACE else None
    status = execution_status(project.execution_arn)
    if status is None:
        return "execution_missing", "processing was lost"
    return ENDED.get(status)


def sweep(now: Any = None) -> list[str]:
    """Fail stuck projects; returns the ids it failed."""
    now = now or utcnow()
    failed: list[str] = []
    # the sparse in-flight index holds only processing projects: no table scan
    for project in Project.in_flight_index.query(IN_FLIGHT):
        found = verdict(project, now)
        if found and fail_project(project.project_id, *found):
            failed.append(project.project_id)
    if failed:
        logger.info("sweeper failed stuck projects", extra={"project_ids": failed})
    return failed


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry (scheduled event): sweep, log and count what was failed."""
    metrics = new_metrics()
    failed = sweep()
    metrics.add_metric(name="ProjectsSwept", unit=MetricUnit.Count, value=len(failed))
    metrics.flush_metrics()
    return {"failed": failed}
