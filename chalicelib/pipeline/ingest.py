"""Ingest: fetch the source (URL, upload or stored key), probe it, check it is a talk, extract audio."""

from __future__ import annotations

from pathlib import Path

from aws_lambda_powertools.metrics import MetricUnit

from ..data import storage
from ..data.models import Project
from ..engine import audio, ingest, probe
from ..settings import get_settings
from .common import (
    State,
    StepContext,
    carry,
    ensure_still_there,
    load_project,
    set_stage,
    step,
    update_project,
    workspace,
)


def _stored_source(project: Project) -> str | None:
    """The object key of a source already in storage (an upload, moved to the project's source/), if any."""
    if project.source_key:
        return project.source_key
    upload = project.upload_key
    if not upload and project.upload_id:
        folder = storage.upload_key(project.tenant, project.upload_id, "x").rsplit("/", 1)[0] + "/"
        keys = storage.list_keys(folder)
        upload = keys[0] if keys else None
    if upload and upload.startswith(storage.UPLOADS_PREFIX):
        # out of the uploads/ lifecycle rule's reach before anything else: copy, record (a retry of this step
        # reads the copy), then delete the upload's object
        moved = storage.source_key(project.tenant, project.project_id, Path(upload).name)
        storage.copy_object(upload, moved)
        update_project(project.project_id, source_key=moved)
        storage.delete_prefix(upload.rsplit("/", 1)[0] + "/")
        return moved
    return upload


@step("ingest")
def handler(ctx: StepContext) -> State:
    """State {project_id, tenant} -> + source_key, audio_key, duration, language."""
    settings = get_settings()
    project = load_project(ctx.project_id)
    set_stage(ctx.project_id, "ingesting", 5)
    with workspace("ingest") as work:
        stored = _stored_source(project)
        if stored:
            src = storage.get_file(stored, work / "source" / Path(stored).name)
        else:
            src = ingest.fetch_source(str(project.video_url or ""), work / "source", settings=settings)
        info = probe.probe(src, probe.SourceCaps.from_settings(settings))
        probe.check_talk(info, float(project.min_duration), settings.max_source_seconds)
        wav = audio.extract_audio(src, work / "audio.wav")
        src_key = stored or ctx.put_file(storage.source_key(ctx.tenant, ctx.project_id, src.name), src)
        audio_key = ctx.put_file(storage.work_key(ctx.tenant, ctx.project_id, "audio.wav"), wav, "audio/wav")
    media = {k: v for k, v in info.to_dict().items() if k != "path"}
    update_project(
        ctx.project_id, source_key=src_key, media=media, source_seconds=round(info.duration, 3), progress=10
    )
    ensure_still_there(ctx)
    ctx.metrics.add_metric(name="SourceSeconds", unit=MetricUnit.Seconds, value=info.duration)
    return carry(
        ctx.state, source_key=src_key, audio_key=audio_key, duration=round(info.duration, 3), language=project.language
    )
