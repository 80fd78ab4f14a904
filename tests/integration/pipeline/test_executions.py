"""End to end through the real ASL: success on the talk (with a transient failure retried), bad media,
a permanent failure, and DELETE in the middle of a run."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from chalicelib.data import quotas, storage
from chalicelib.data.models import Clip, Project, WebhookDelivery
from chalicelib.engine.errors import TransientError
from chalicelib.local import lambda_seam
from chalicelib.webhooks.signing import verify_signature
from tests.unit.pipeline.awsenv import drain_webhooks, history, wait_execution

from .conftest import Api

TALK = Path(__file__).resolve().parents[2] / "fixtures" / "talk.mp4"

# One moto world per module and tests that build on each other (the prompt branch runs on the project
# the end-to-end test completed): keep them on one xdist worker, in file order.
pytestmark = pytest.mark.xdist_group("pipeline-executions")


def submit(api: Api, video: Path, webhook_url: str, **extra: Any) -> dict[str, Any]:
    body = {"video_url": video.as_uri(), "max_clips": 2, "caption_style": "karaoke", "platforms": ["youtube_shorts"],
            "min_duration": 15, "max_duration": 30, "webhook_url": webhook_url, **extra}
    status, project = api.call("POST", "/v1/projects", body)
    assert status == 201, project
    assert project["status"] == "processing"
    return project


def execution_of(project_id: str) -> str:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        arn = Project.get(project_id).execution_arn
        if arn:
            return arn
        time.sleep(0.1)
    raise AssertionError("no execution recorded")


@contextmanager
def wrapped(function: str, make: Any) -> Iterator[None]:
    """Temporarily wrap the handler the seam dispatches `function` to."""
    name = f"klipstar-local-{function}"
    original = lambda_seam.registered()[name]
    real = lambda_seam._resolve(original)
    lambda_seam.register(name, make(real))
    try:
        yield
    finally:
        lambda_seam.register(name, original)


def events_for(receiver: Any, project_id: str) -> list[tuple[dict[str, str], bytes, dict[str, Any]]]:
    drain_webhooks()
    out = []
    for r in receiver.received:
        body = json.loads(r.body)
        if body.get("project_id") == project_id:
            out.append((r.headers, r.body, body))
    return out


def test_talk_end_to_end_with_a_transient_failure_retried(api: Api, receiver: Any) -> None:
    calls = {"n": 0}

    def flaky(real: Any) -> Any:
        def handler(event: dict[str, Any], context: Any) -> Any:
            calls["n"] += 1
            if calls["n"] <= 2:
                raise TransientError("DynamoDB throttled")
            return real(event, context)

        return handler

    with wrapped("finalize", flaky):
        project = submit(api, TALK, receiver.url, metadata={"campaign": "e2e"})
        pid = project["id"]
        arn = execution_of(pid)
        desc = wait_execution(arn, 420)
    assert desc["status"] == "SUCCEEDED", desc
    events = history(arn)

    # finalize failed twice with TransientError, was retried, then succeeded
    assert calls["n"] == 3
    failures = [e["lambdaFunctionFailedEventDetails"] for e in events if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failures] == ["TransientError", "TransientError"]
    # the transcription ran as a Map over several VAD chunks
    assert sum(1 for e in events if e["type"] == "MapIterationSucceeded") >= 2 + 2
    # the state carries only ids and keys
    sizes = [len(json.dumps(e, default=str)) for e in events]
    assert max(sizes) < 16_000

    # the project and its clips
    status, got = api.call("GET", f"/v1/projects/{pid}")
    assert status == 200 and got["status"] == "completed" and got["stage"] == "completed"
    assert got["progress"] == 100 and abs(got["source_seconds"] - 151) < 5
    assert len(got["chapters"]) >= 3 and all(c["title"] and c["start"] < c["end"] for c in got["chapters"])
    stored = storage.get_json(Project.get(pid).transcript_key)
    assert [{"start": round(c["start"], 3), "end": round(c["end"], 3), "title": c["title"]}
            for c in stored["chapters"]] == got["chapters"]  # stored with the transcript
    clips = sorted(Clip.by_project.query(pid), key=lambda c: c.rank)
    assert 1 <= len(clips) <= 2
    for clip in clips:
        rendition = clip.renditions["youtube_shorts"]
        assert (rendition["width"], rendition["height"]) == (1080, 1920)
        local = storage.get_file(rendition["key"], Path(f"/tmp/pipetest-{clip.clip_id}.mp4"))
        with av.open(str(local)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1920)
            seconds = float(container.duration) / 1e6
        local.unlink()
        assert abs(seconds - float(clip.duration_seconds)) < 1.0
        assert storage.exists(clip.thumbnail_key)
        words = clip.transcript["words"]
        assert words and all(-0.05 <= w["start"] <= w["end"] <= float(clip.duration_seconds) + 0.05 for w in words)
    keys = storage.list_keys(storage.project_prefix("pipeco#test", pid))
    assert not any("/work/audio" in k or "transcript-part-" in k for k in keys)  # scratch cleaned
    assert quotas.in_flight("pipeco") == 0

    # project.completed, signed, the seed's shape plus the project's fields
    received = events_for(receiver, pid)
    assert len(received) == 1
    headers, raw, body = received[0]
    assert verify_signature(api.secret, headers["Klipstar-Signature"], raw)
    assert body["event"] == "project.completed" and body["project_id"] == pid
    assert body["id"] == pid and body["status"] == "completed" and body["metadata"] == {"campaign": "e2e"}
    assert [c["id"] for c in body["clips"]] == [c.clip_id for c in clips]
    first = body["clips"][0]
    assert set(first) >= {"id", "title", "virality_score", "duration_seconds", "download_url", "platforms"}
    assert first["platforms"]["youtube_shorts"]["width"] == 1080
    video = requests.get(first["download_url"], timeout=10)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"

    # the delivery log through the API
    status, log = api.call("GET", f"/v1/webhooks/deliveries?project_id={pid}")
    assert status == 200
    assert [(d["event"], d["status"], [a["status_code"] for a in d["attempts"]]) for d in log["data"]] == [
        ("project.completed", "delivered", [200])]
    status, again = api.call("POST", f"/v1/webhooks/deliveries/{log['data'][0]['id']}/resend")
    assert status == 202 and again["status"] == "pending"
    assert len(events_for(receiver, pid)) == 2  # same event id delivered again
    assert received[0][0]["Klipstar-Event-Id"] == events_for(receiver, pid)[1][0]["Klipstar-Event-Id"]


def test_bad_media_fails_the_project_with_its_code(api: Api, receiver: Any, not_media_path: Path) -> None:
    project = submit(api, not_media_path, receiver.url)
    pid = project["id"]
    desc = wait_execution(execution_of(pid), 120)
    assert desc["status"] == "FAILED"
    _status, got = api.call("GET", f"/v1/projects/{pid}")
    assert got["status"] == "failed" and got["stage"] == "failed"
    assert got["error"]["code"] == "not_media" and got["error"]["message"]
    assert quotas.in_flight("pipeco") == 0
    received = events_for(receiver, pid)
    assert [b["event"] for _, _, b in received] == ["project.failed"]
    headers, raw, body = received[0]
    assert verify_signature(api.secret, headers["Klipstar-Signature"], raw)
    assert body["error"]["code"] == "not_media"


def test_a_step_failing_for_good_is_not_retried(api: Api, receiver: Any, no_speech_path: Path) -> None:
    project = submit(api, no_speech_path, receiver.url)
    pid = project["id"]
    arn = execution_of(pid)
    desc = wait_execution(arn, 240)
    assert desc["status"] == "FAILED"
    got = Project.get(pid)
    assert got.status == "failed" and got.error.code == "no_speech"
    failed = [e["lambdaFunctionFailedEventDetails"]["error"] for e in history(arn)
              if e["type"] == "LambdaFunctionFailed"]
    assert failed == ["NoSpeech"]  # once: permanent errors go straight to MarkFailed
    assert [b["error"]["code"] for _, _, b in events_for(receiver, pid)] == ["no_speech"]


def test_delete_mid_run_leaves_nothing_behind(api: Api, receiver: Any, talk_40s: Path) -> None:
    """A chunk transcription finishes *after* DELETE removed everything and writes its part anyway:
    the step notices (project gone, execution stopped), deletes what it wrote, and stops."""
    reached = threading.Event()
    release = threading.Event()
    wrote_late: list[str] = []
    real_put_json = storage.put_json

    def gated_put_json(key: str, data: Any) -> None:
        if "transcript-part-" in key:
            reached.set()
            release.wait(60)
            wrote_late.append(key)
        real_put_json(key, data)

    storage.put_json = gated_put_json  # type: ignore[assignment]
    try:
        project = submit(api, talk_40s, receiver.url)
        pid = project["id"]
        arn = execution_of(pid)
        assert reached.wait(180)
        prefix = storage.project_prefix("pipeco#test", pid)
        assert storage.list_keys(prefix)  # the source and audio are stored by now
        status, _ = api.call("DELETE", f"/v1/projects/{pid}")
        assert status == 204
        assert storage.list_keys(prefix) == []
        release.set()
        wait_execution(arn, 120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and storage.list_keys(prefix):
            time.sleep(0.2)
        time.sleep(2.0)  # any other chunk still running finishes and cleans up too
    finally:
        storage.put_json = real_put_json  # type: ignore[assignment]
        release.set()
    assert wrote_late  # a part really was written after the DELETE ...
    assert storage.list_keys(prefix) == []  # ... and taken back
    assert api.call("GET", f"/v1/projects/{pid}")[0] == 404
    assert list(Clip.by_project.query(pid)) == []
    assert list(WebhookDelivery.by_project.query(pid)) == []
    assert quotas.in_flight("pipeco") == 0


def test_prompt_job_runs_the_prompt_branch(api: Api, receiver: Any) -> None:
    """On the project the first test completed: search -> render Map -> prompt_finalize -> prompt.completed."""
    from chalicelib.data.models import PromptJob

    done = [p for p in Project.scan(Project.status == "completed") if p.tenant == "pipeco#test"]
    assert done, "runs after test_talk_end_to_end_with_a_transient_failure_retried"
    pid = done[0].project_id
    before = {c.clip_id for c in Clip.by_project.query(pid)}
    style = {"captions": {"preset": "pop", "position": "top"}, "hook_title": {"seconds": 2},
             "tighten": {"remove_silences": True, "silence_threshold": 0.2, "pause": 0.1}}
    status, job = api.call("POST", f"/v1/projects/{pid}/prompt",
                           {"prompt": "why sleep matters for memory", "max_clips": 1, "style": style})
    assert status == 202, job
    arn = PromptJob.get(job["id"]).execution_arn
    desc = wait_execution(arn, 300)
    assert desc["status"] == "SUCCEEDED", desc
    row = PromptJob.get(job["id"])
    assert row.status == "completed"
    new = [c for c in Clip.by_project.query(pid) if c.clip_id not in before]
    assert [c.clip_id for c in new] == list(row.clip_ids)
    assert len(new) == 1  # the talk has a paragraph about sleep and memory
    clip = new[0]
    assert clip.prompt_job_id == job["id"] and clip.rank >= len(before)
    assert "sleep" in clip.transcript["text"].lower()
    assert storage.exists(clip.renditions["youtube_shorts"]["key"])
    # the job's style reached the render: pauses between sentences were cut to 0.1 s
    ranges = clip.source_ranges
    assert ranges and len(ranges) >= 2 and ranges[0][0] >= clip.start - 1e-3 and ranges[-1][1] <= clip.end + 1e-3
    kept = sum(b - a for a, b in ranges)
    assert float(clip.duration_seconds) == pytest.approx(kept, abs=0.01) and kept < clip.end - clip.start - 0.1
    video = storage.get_file(clip.renditions["youtube_shorts"]["key"], Path(tempfile.mkdtemp()) / "c.mp4")
    with av.open(str(video)) as c:
        assert c.duration / 1e6 == pytest.approx(kept, abs=0.05)
    words = clip.transcript["words"]
    assert words[-1]["end"] <= kept + 0.05
    received = [b for h, raw, b in events_for(receiver, pid) if b["event"] == "prompt.completed"]
    assert len(received) == 1 and received[0]["prompt_job_id"] == job["id"]
    assert [c["id"] for c in received[0]["clips"]] == list(row.clip_ids)
    assert Project.get(pid).status == "completed"  # a prompt job never touches the project's own state


def test_delivery_log_is_tenant_scoped(api: Api) -> None:
    """Another account (or the same account's live key) sees neither the log nor can resend: 404."""
    from chalicelib.data.keys import create_key

    done = [p for p in Project.scan(Project.status == "completed") if p.tenant == "pipeco#test"]
    assert done
    pid = done[0].project_id
    delivery = next(iter(WebhookDelivery.by_project.query(pid)))
    for account, mode in (("otherco", "test"), ("pipeco", "live")):
        other = Api(api.client, create_key(account, mode=mode, plan="studio").key, "")
        status, body = other.call("GET", f"/v1/webhooks/deliveries?project_id={pid}")
        assert status == 404 and body["error"]["code"] == "resource_missing"
        status, body = other.call("POST", f"/v1/webhooks/deliveries/{delivery.event_id}/resend")
        assert status == 404
    status, body = api.call("GET", "/v1/webhooks/deliveries")
    assert status == 400 and body["error"]["param"] == "project_id"
