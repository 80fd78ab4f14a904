"""Deleting a project and everything under it: executions, rows, objects, its concurrency slot."""

from __future__ import annotations

from ..data import quotas, storage
from ..data.models import Clip, Project, PromptJob, Publication, Upload, WebhookDelivery
from .executions import stop_pipeline


def delete_project(project: Project) -> dict[str, int]:
    """Stop its executions (pipeline, prompt jobs, clip edits), delete its rows and objects (every clip
    version included), free its slot; counts of what went.

    The project row goes last, so a failure part-way leaves it visible and DELETE can be retried.
    """
    counts = {"clips": 0, "prompt_jobs": 0, "publications": 0, "deliveries": 0, "objects": 0}
    jobs = list(PromptJob.by_project.query(project.project_id))
    clips = list(Clip.by_project.query(project.project_id))
    stop_pipeline(project.execution_arn, f"project {project.project_id} deleted")
    for job in jobs:
        stop_pipeline(job.execution_arn, f"project {project.project_id} deleted")
    for clip in clips:  # edits still rendering; every version's objects go with the prefix below
        stop_pipeline((clip.pending or {}).get("execution_arn"), f"project {project.project_id} deleted")
    quotas.release_project_slot(project)
    for clip in clips:
        for pub in Publication.by_clip.query(clip.clip_id):
            pub.delete()
            counts["publications"] += 1
        clip.delete()
        counts["clips"] += 1
    for job in jobs:
        job.delete()
        counts["prompt_jobs"] += 1
    for delivery in WebhookDelivery.by_project.query(project.project_id):
        delivery.delete()
        counts["deliveries"] += 1
    counts["objects"] += storage.delete_prefix(storage.project_prefix(project.tenant, project.project_id))
    if project.upload_id:
        try:
            upload = Upload.get(project.upload_id)
        except Upload.DoesNotExist:
            upload = None
        if upload is not None and upload.tenant == project.tenant:
            counts["objects"] += storage.delete_prefix(upload.key.rsplit("/", 1)[0] + "/")
            upload.delete()
    project.delete()
    return counts
