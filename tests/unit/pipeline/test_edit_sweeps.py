"""Clip edits never stay "rendering": MarkFailed keeps the previous version, the sweeper ends lost renders;
the source retention setting drops expired sources (and only those)."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest

from chalicelib.data import storage
from chalicelib.data.models import Clip, Project, WebhookDelivery, utcnow
from chalicelib.pipeline import mark_failed, sweeper
from chalicelib.settings import get_settings
from tests.unit.pipeline.awsenv import make_account

from .test_sweeper_and_failures import _wait_machine

TENANT = "editsweep#live"


def _project(project_id: str, **fields: Any) -> Project:
    project = Project(project_id, tenant=TENANT, account_id="editsweep", status="completed", stage="completed",
                      completed_at=utcnow(), webhook_url="http://127.0.0.1:9/hook", **fields)
    project.save()
    return project


def _clip(clip_id: str, project_id: str, version: int, **pending: Any) -> Clip:
    clip = Clip(clip_id, project_id=project_id, tenant=TENANT, rank=0, title="t", virality_score=50, start=1.0,
                end=9.0, duration_seconds=8.0, renditions={"square": {"width": 1080, "height": 1080, "key": "k"}},
                status="rendering", version=version,
                pending={"version": version + 1, "start": 1.0, "end": 12.0, **pending})
    clip.save()
    return clip


def test_a_failed_edit_keeps_the_previous_version_and_leaves_the_project_alone(world: Any) -> None:
    make_account("editsweep", "whsec_e")
    _project("proj_ef")
    _clip("clip_ef_edit", "proj_ef", 1)
    _clip("clip_ef_manual", "proj_ef", 0)
    cause = json.dumps({"errorType": "RenderFailed", "errorMessage": "ffmpeg failed\nTraceback..."})
    for clip_id in ("clip_ef_edit", "clip_ef_manual"):
        out = mark_failed.handler({"project_id": "proj_ef", "tenant": TENANT, "edit_clip_id": clip_id,
                                   "edit_version": 2, "error": {"Error": "RenderFailed", "Cause": cause}})
        assert out["error"] == {"code": "render_failed", "message": "ffmpeg failed"}
    edited, manual = Clip.get("clip_ef_edit"), Clip.get("clip_ef_manual")
    assert (edited.status, edited.version, edited.pending, edited.end) == ("ready", 1, None, 9.0)
    assert edited.renditions["square"]["key"] == "k" and edited.edit_error.code == "render_failed"
    assert manual.status == "failed" and manual.pending is None
    project = Project.get("proj_ef")
    assert project.status == "completed" and project.error is None
    assert list(WebhookDelivery.by_project.query("proj_ef")) == []  # no project.failed for an edit


def test_sweeper_ends_edits_whose_render_ended_or_never_started(world: Any) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = _wait_machine()
    running = sfn.start_execution(stateMachineArn=machine, name="edit-running")["executionArn"]
    stopped = sfn.start_execution(stateMachineArn=machine, name="edit-stopped")["executionArn"]
    deadline = time.monotonic() + 10
    while sfn.describe_execution(executionArn=stopped)["status"] != "ABORTED" and time.monotonic() < deadline:
        sfn.stop_execution(executionArn=stopped)
        time.sleep(0.2)
    _project("proj_es")
    _clip("clip_es_run", "proj_es", 1, execution_arn=running)
    _clip("clip_es_stop", "proj_es", 1, execution_arn=stopped)
    _clip("clip_es_old", "proj_es", 1, requested_at=(utcnow() - timedelta(hours=1)).isoformat())
    _clip("clip_es_young", "proj_es", 1, requested_at=utcnow().isoformat())
    swept = set(sweeper.sweep_edits())
    assert {"clip_es_stop", "clip_es_old"} <= swept and not swept & {"clip_es_run", "clip_es_young"}
    assert Clip.get("clip_es_stop").edit_error.code == "execution_aborted"
    assert Clip.get("clip_es_old").status == "ready" and Clip.get("clip_es_run").status == "rendering"
    assert not set(sweeper.sweep_edits()) & {"clip_es_stop", "clip_es_old"}  # idempotent


def test_expired_sources_are_dropped_after_the_retention_setting(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for pid, age in (("proj_old_src", timedelta(days=3)), ("proj_new_src", timedelta(hours=1))):
        key = storage.source_key(TENANT, pid, "talk.mp4")
        storage.s3_client().put_object(Bucket=storage.bucket(), Key=key, Body=b"src")
        _project(pid, source_key=key, transcript_key=storage.transcript_key(TENANT, pid)).update(
            actions=[Project.completed_at.set(utcnow() - age)])
    assert "proj_old_src" not in sweeper.drop_expired_sources()  # 0 = kept for the project's life
    monkeypatch.setenv("KLIPSTAR_SOURCE_RETENTION_DAYS", "2")
    get_settings.cache_clear()
    try:
        dropped = sweeper.drop_expired_sources()
    finally:
        monkeypatch.delenv("KLIPSTAR_SOURCE_RETENTION_DAYS")
        get_settings.cache_clear()
    assert "proj_old_src" in dropped and "proj_new_src" not in dropped
    assert Project.get("proj_old_src").source_key is None and Project.get("proj_old_src").transcript_key
    assert not storage.exists(storage.source_key(TENANT, "proj_old_src", "talk.mp4"))
    assert storage.exists(storage.source_key(TENANT, "proj_new_src", "talk.mp4"))
