"""Sweeper (scheduled): nothing stays "processing" (or "rendering") forever; unused uploads and expired
sources go.

Fails every project still marked processing whose execution has ended (failed, timed out, aborted,
or even succeeded without completing the project) or cannot be found, plus projects that never got
an execution within the grace period. Clip edits get the same treatment (the clip keeps its previous
version). Deletes the stored object and row of every upload no project used within two days
(data.uploads.sweep_unused_uploads). With KLIPSTAR_SOURCE_RETENTION_DAYS set, completed projects older
than that lose their source media (the transcript and the clips stay; edits then answer 409 source_expired).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pynamodb.exceptions import UpdateError

from ..data import storage
from ..data.models import IN_FLIGHT, Clip, Project, utcnow
from ..data.uploads import sweep_unused_uploads
from ..settings import get_settings
from .common import execution_status, logger, new_metrics
from .mark_failed import fail_clip_edit, fail_project

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


def edit_verdict(clip: Clip, now: Any) -> tuple[str, str] | None:
    """(code, message) if `clip`'s edit render must be failed, else None."""
    pending = clip.pending or {}
    arn = pending.get("execution_arn")
    if not arn:
        requested = pending.get("requested_at")
        young = requested and now - datetime.fromisoformat(requested) <= GRACE
        return None if young else ("execution_missing", "the render never started")
    status = execution_status(arn)
    if status is None:
        return "execution_missing", "the render was lost"
    return ENDED.get(status)


def sweep_edits(now: Any = None) -> list[str]:
    """Fail clip edits stuck in rendering; returns the clip ids (each keeps its previous version)."""
    now = now or utcnow()
    failed: list[str] = []
    for clip in Clip.scan(Clip.status == "rendering"):
        found = edit_verdict(clip, now)
        if found:
            fail_clip_edit(clip.clip_id, *found)
            failed.append(clip.clip_id)
    return failed


def drop_expired_sources(now: Any = None) -> list[str]:
    """Delete the source media of completed projects past KLIPSTAR_SOURCE_RETENTION_DAYS (0: never)."""
    days = get_settings().source_retention_days
    if days <= 0:
        return []
    cutoff = (now or utcnow()) - timedelta(days=days)
    dropped: list[str] = []
    condition = (Project.status == "completed") & Project.source_key.exists() & (Project.completed_at < cutoff)
    for project in Project.scan(condition):
        storage.s3_client().delete_object(Bucket=storage.bucket(), Key=project.source_key)
        try:
            project.update(actions=[Project.source_key.remove()], condition=Project.project_id.exists())
        except UpdateError:
            continue  # deleted meanwhile
        dropped.append(project.project_id)
    return dropped


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry (scheduled event): sweep, log and count what was failed or dropped."""
    metrics = new_metrics()
    failed = sweep()
    edits = sweep_edits()
    dropped = drop_expired_sources()
    uploads = sweep_unused_uploads(utcnow())
    if edits or dropped or uploads:
        logger.info("sweeper ended edits / dropped sources / deleted unused uploads",
                    extra={"clip_ids": edits, "project_ids": dropped, "upload_ids": uploads})
    metrics.add_metric(name="ProjectsSwept", unit=MetricUnit.Count, value=len(failed))
    metrics.add_metric(name="EditsSwept", unit=MetricUnit.Count, value=len(edits))
    metrics.add_metric(name="SourcesDropped", unit=MetricUnit.Count, value=len(dropped))
    metrics.add_metric(name="UploadsSwept", unit=MetricUnit.Count, value=len(uploads))
    metrics.flush_metrics()
    return {"failed": failed, "edits_failed": edits, "sources_dropped": dropped, "uploads_deleted": uploads}
