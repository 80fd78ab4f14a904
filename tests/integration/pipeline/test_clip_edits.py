"""Editable clips through the real state machine's render-only branch (EditPlan -> EditRender -> EditFinalize).

A completed project is seeded from the committed talk and its shared transcript (no ingest/transcription run),
so the module renders exactly twice: one edit (extended by a sentence, with a caption fix) and one manual clip.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path
from typing import Any

import av
import opentimelineio as otio
import pytest
import requests
import srt
import webvtt

from chalicelib.data import storage
from chalicelib.data.models import Clip, Project, utcnow
from chalicelib.engine import segment
from chalicelib.engine.types import Transcript
from chalicelib.pipeline.finalize import version_record
from tests.unit.engine_render.test_exports import assert_end_frame, assert_fcpxml_exact
from tests.unit.pipeline.awsenv import drain_webhooks, wait_execution

from .conftest import Api
from .test_executions import wrapped

pytestmark = pytest.mark.xdist_group("pipeline-executions")
ACCOUNT = "editco"
TENANT = f"{ACCOUNT}#test"
V1_BYTES = b"version one video bytes"
FIX = "Klipstarred"


def _norm(text: str) -> str:
    return " ".join("".join(ch for ch in text.lower() if ch.isalnum() or ch.isspace()).split())


def _seed_project(talk_path: Path, transcript: Transcript, platforms: list[str], webhook_url: str | None) -> Project:
    from chalicelib.api.loaders import new_id

    pid = new_id("proj_")
    now = utcnow()
    project = Project(
        pid, tenant=TENANT, account_id=ACCOUNT, status="completed", stage="completed", progress=100,
        created_at=now, updated_at=now, completed_at=now, video_url="https://videos.example.com/talk.mp4",
        platforms=platforms, caption_style="karaoke", slot_released=True, source_seconds=transcript.duration,
        media={"fps": 25.0, "width": 1280, "height": 720, "duration": transcript.duration},
        source_key=storage.source_key(TENANT, pid, "talk.mp4"), transcript_key=storage.transcript_key(TENANT, pid),
        webhook_url=webhook_url,
    )
    project.save()
    storage.put_file(project.source_key, talk_path, "video/mp4")
    storage.put_json(project.transcript_key, transcript.to_dict())
    return project


def _seed_clip(project: Project, transcript: Transcript, first_word: int, last_word: int) -> Clip:
    """A finished version-1 clip the way Finalize writes it (its video is a placeholder object)."""
    from chalicelib.api.loaders import new_id

    start, end = segment.cut_points(transcript, first_word, last_word)
    words = transcript.clip_words(start, end)
    clip_id = new_id("clip_", 16)
    key = storage.clip_video_key(TENANT, project.project_id, clip_id, 1080, 1080)
    storage.s3_client().put_object(Bucket=storage.bucket(), Key=key, Body=V1_BYTES)
    clip = Clip(clip_id, project_id=project.project_id, tenant=TENANT, rank=0, title="Pricing", virality_score=71,
                sub_scores={"hook": 60.0, "emotion": 50.0, "value": 80.0, "self_contained": 70.0, "pacing": 65.0},
                reason="seeded", start=start, end=end, duration_seconds=round(end - start, 2),
                transcript={"text": " ".join(w.text for w in words), "words": [w.to_dict() for w in words]},
                renditions={"square": {"width": 1080, "height": 1080, "key": key}}, source_ranges=[[start, end]],
                version=1)
    clip.versions = [version_record(1, clip)]
    clip.save()
    return clip


def fresh_rate_windows() -> None:
    """These tests exercise edits, not the plan's request limits: start each request burst in empty windows."""
    from chalicelib.data.models import RateCounter

    for row in RateCounter.scan(RateCounter.counter_key.startswith(f"{ACCOUNT}#")):
        if "#min#" in row.counter_key or "#hour#" in row.counter_key:
            row.delete()


@pytest.fixture(scope="module")
def editor(api: Api) -> Api:
    """An account of its own (the studio plan) on the package's API client."""
    from chalicelib.data.keys import create_key

    return Api(api.client, create_key(ACCOUNT, mode="test", plan="studio").key, "")


@pytest.fixture(autouse=True)
def _fresh_windows() -> None:
    fresh_rate_windows()


@pytest.fixture(scope="module")
def seeded(editor: Api, receiver: Any, talk_path: Path, talk_transcript: Transcript) -> dict[str, Any]:
    """A completed project (square renders) with one clip: a short sentence in the talk's content."""
    transcript = talk_transcript
    sentences = segment.split_sentences(transcript)
    index = next(i for i, s in enumerate(sentences[:-3]) if s.start > 22 and 3 <= s.end - s.start <= 8
                 and 2 <= sentences[i + 1].end - sentences[i + 1].start <= 7)
    project = _seed_project(talk_path, transcript, ["square"], receiver.url)
    clip = _seed_clip(project, transcript, sentences[index].first_word, sentences[index].last_word)
    return {"project": project, "clip_id": clip.clip_id, "sentences": sentences, "index": index,
            "transcript": transcript}


def _execution(clip_id: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        arn = (Clip.get(clip_id).pending or {}).get("execution_arn")
        if arn:
            return str(arn)
        time.sleep(0.1)
    raise AssertionError("no edit execution recorded")


def _probe_seconds(key: str, tmp: Path) -> float:
    local = storage.get_file(key, tmp / key.replace("/", "_"))
    with av.open(str(local)) as container:
        return float(container.duration) / 1e6


def _cut_in_pause(transcript: Transcript, start: float, end: float) -> None:
    """No word straddles a cut: each lies wholly before, inside or after [start, end]."""
    for w in transcript.words:
        assert w.end <= start + 1e-6 or w.start >= end - 1e-6 or (w.start >= start - 1e-6 and w.end <= end + 1e-6), w


def test_extend_by_one_sentence_with_a_caption_fix(editor: Api, receiver: Any, seeded: dict[str, Any],
                                                  tmp_path: Path) -> None:
    transcript: Transcript = seeded["transcript"]
    sentences = seeded["sentences"]
    nxt = sentences[seeded["index"] + 1]
    clip_id = seeded["clip_id"]
    before = Clip.get(clip_id)
    requested_end = round(nxt.end + 0.05, 3)  # a little past the next sentence's last word
    reached, release = threading.Event(), threading.Event()

    def gate(real: Any) -> Any:
        def handler(event: dict[str, Any], context: Any) -> Any:
            reached.set()
            release.wait(120)
            return real(event, context)

        return handler

    with wrapped("render", gate):
        status, body = editor.call("PATCH", f"/v1/clips/{clip_id}",
                                {"end": requested_end, "words": [{"index": 1, "text": FIX}]})
        assert status == 200, body
        assert body["render"] is True and body["status"] == "rendering" and body["version"] == 1
        assert body["snapped"]["end"]["requested"] == requested_end
        assert body["snapped"]["end"]["by"] == pytest.approx(body["snapped"]["end"]["snapped"] - requested_end,
                                                             abs=1e-3)
        assert body["snapped"]["start"]["by"] == pytest.approx(0.0, abs=0.35)
        arn = _execution(clip_id)
        try:
            assert reached.wait(180)
            # while the new version renders: still version 1, downloadable, and a second edit is refused
            status, during = editor.call("GET", f"/v1/clips/{clip_id}")
            assert during["status"] == "rendering" and during["version"] == 1
            assert requests.get(during["download_url"], timeout=10).content == V1_BYTES
            status, again = editor.call("PATCH", f"/v1/clips/{clip_id}", {"end": requested_end})
            assert status == 409 and again["error"]["code"] == "clip_rendering"
        finally:
            release.set()
        desc = wait_execution(arn, 300)
    assert desc["status"] == "SUCCEEDED", desc

    status, clip = editor.call("GET", f"/v1/clips/{clip_id}")
    assert clip["status"] == "ready" and clip["version"] == 2 and [v["version"] for v in clip["versions"]] == [1, 2]
    assert clip["end"] > float(before.end) + 1.5 and clip["source_ranges"] == [[clip["start"], clip["end"]]]
    _cut_in_pause(transcript, clip["start"], clip["end"])
    assert clip["end"] >= nxt.end and clip["start"] <= sentences[seeded["index"]].start
    # the new version's probed duration matches the range; version 1 is still there
    row = Clip.get(clip_id)
    assert abs(_probe_seconds(row.renditions["square"]["key"], tmp_path) - (clip["end"] - clip["start"])) < 0.1
    assert "/v2/" in row.renditions["square"]["key"]
    assert requests.get(clip["versions"][0]["download_url"], timeout=10).content == V1_BYTES
    assert requests.get(clip["download_url"], timeout=10).content[4:8] == b"ftyp"
    # the captions carry the new sentence and the corrected word
    status_srt, subtitles = _get_text(editor, f"/v1/clips/{clip_id}/captions?format=srt")
    assert status_srt == 200
    cues = list(srt.parse(subtitles))
    text = _norm(" ".join(c.content for c in cues))
    assert _norm(nxt.text) in text
    assert FIX.lower() in text and clip["transcript"]["words"][1]["text"] == FIX
    status_ass, ass = _get_text(editor, f"/v1/clips/{clip_id}/captions?format=ass")
    assert status_ass == 200 and FIX in ass and "PlayResX: 1080" in ass and "PlayResY: 1080" in ass
    # clip.updated, signed like every event
    drain_webhooks()
    updates = [json.loads(r.body) for r in receiver.received if json.loads(r.body).get("event") == "clip.updated"]
    assert [(u["clip_id"], u["version"], u["status"]) for u in updates] == [(clip_id, 2, "ready")]


def _get_text(api: Api, path: str) -> tuple[int, str]:
    resp = api.client.http.get(path, headers={"Authorization": f"Bearer {api.key}"})
    return resp.status_code, resp.body.decode("utf-8")


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_srt_and_vtt_parse_and_match_the_word_timings(editor: Api, seeded: dict[str, Any]) -> None:
    clip = editor.call("GET", f"/v1/clips/{seeded['clip_id']}")[1]
    words = [w for w in clip["transcript"]["words"] if w["text"].strip()]
    _, srt_text = _get_text(editor, f"/v1/clips/{seeded['clip_id']}/captions?format=srt")
    _, vtt_text = _get_text(editor, f"/v1/clips/{seeded['clip_id']}/captions?format=vtt")
    srt_cues = [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in srt.parse(srt_text)]
    vtt_cues = [(_seconds(c.start), _seconds(c.end), c.text) for c in webvtt.from_string(vtt_text)]
    for cues in (srt_cues, vtt_cues):
        assert [t for _, _, c in cues for t in c.split()] == [w["text"] for w in words]
        n = 0
        for start, end, content in cues:
            group = words[n : n + len(content.split())]
            n += len(group)
            assert start == pytest.approx(group[0]["start"], abs=1e-3)
            assert end == pytest.approx(max(w["end"] for w in group), abs=1e-3)


def test_manual_clip_over_an_unpicked_range_is_scored_titled_and_rendered(editor: Api, seeded: dict[str, Any],
                                                                         tmp_path: Path) -> None:
    sentences = seeded["sentences"]
    pid = seeded["project"].project_id
    taken = Clip.get(seeded["clip_id"])
    later = [s for s in sentences if s.start > float(taken.end) + 5 and 4 <= s.end - s.start <= 9]
    chosen = later[0]
    status, body = editor.call("POST", f"/v1/projects/{pid}/clips", {"start": chosen.start - 0.05,
                                                                   "end": chosen.end + 0.05})
    assert status == 201, body
    assert body["manual"] is True and body["status"] == "rendering" and body["version"] == 0
    assert body["download_url"] is None and set(body["snapped"]) == {"start", "end"}
    desc = wait_execution(_execution(body["id"]), 300)
    assert desc["status"] == "SUCCEEDED", desc
    clip = editor.call("GET", f"/v1/clips/{body['id']}")[1]
    assert clip["status"] == "ready" and clip["version"] == 1
    assert clip["title"] and clip["reason"] and 0 <= clip["virality_score"] <= 100
    assert set(clip["sub_scores"]) == {"hook", "emotion", "value", "self_contained", "pacing"}
    assert _norm(chosen.text) in _norm(clip["transcript"]["text"])
    _cut_in_pause(seeded["transcript"], clip["start"], clip["end"])
    row = Clip.get(body["id"])
    assert abs(_probe_seconds(row.renditions["square"]["key"], tmp_path) - (clip["end"] - clip["start"])) < 0.1
    # listed after the scorer's clips by rank; by start on the timeline
    _, listed = editor.call("GET", f"/v1/projects/{pid}/clips?order=timeline")
    assert [c["id"] for c in listed["data"]] == [seeded["clip_id"], body["id"]]
    _, project = editor.call("GET", f"/v1/projects/{pid}?order=score")
    scores = [c["virality_score"] for c in project["clips"]]
    assert scores == sorted(scores, reverse=True)


def _snapshot(clip_id: str) -> dict[str, Any]:
    row = Clip.get(clip_id, consistent_read=True)
    return {k: getattr(row, k) for k in ("start", "end", "version", "versions", "status", "pending", "title",
                                          "word_fixes", "renditions", "transcript")}


def test_bad_edits_name_the_field_and_change_nothing(editor: Api, seeded: dict[str, Any], talk_path: Path) -> None:
    from chalicelib.data.keys import create_key

    transcript: Transcript = seeded["transcript"]
    reels = _seed_project(talk_path, transcript, ["reels"], None)  # reels: 90 s at most
    clip_id = _seed_clip(reels, transcript, *_first_sentence_words(seeded)).clip_id
    before = _snapshot(clip_id)
    cases = [
        ({"start": 40.0, "end": 30.0}, 422, "start"),
        ({"start": 30.0, "end": 30.0}, 422, "start"),
        ({"end": transcript.duration + 30}, 422, "end"),
        ({"start": transcript.duration + 1, "end": transcript.duration + 20}, 422, "start"),
        ({"start": 10.0, "end": 120.0}, 422, "end"),  # 110 s > the 90 s reels allow
        ({"start": -1.0}, 400, "start"),
        ({"words": [{"index": 999, "text": "x"}]}, 422, "words.0.index"),
        ({"layout": "zoom"}, 400, "layout"),
        ({"style": {"captions": {"preset": "neon"}}}, 400, "style.captions.preset"),
        ({"template_id": "tpl_nope"}, 400, "template_id"),  # not a template id at all
        ({"template_id": "tmpl_nope"}, 404, "template_id"),  # well formed, but no such template
        ({}, 400, None),
    ]
    for body, status, param in cases:
        fresh_rate_windows()
        got, err = editor.call("PATCH", f"/v1/clips/{clip_id}", body)
        assert (got, err["error"]["param"]) == (status, param), (body, err)
        assert _snapshot(clip_id) == before, body
    other = Api(editor.client, create_key("otherco", mode="test", plan="studio").key, "")
    got, err = other.call("PATCH", f"/v1/clips/{clip_id}", {"title": "mine now"})
    assert got == 404 and err["error"]["code"] == "resource_missing"
    assert other.call("GET", f"/v1/clips/{clip_id}/captions?format=srt")[0] == 404
    assert other.call("GET", f"/v1/projects/{reels.project_id}/export?format=otio")[0] == 404
    assert _snapshot(clip_id) == before
    # a project still processing cannot be edited; its clips keep their data
    reels.update(actions=[Project.status.set("processing")])
    got, err = editor.call("PATCH", f"/v1/clips/{clip_id}", {"end": float(before["end"]) + 5})
    assert got == 409 and err["error"]["code"] == "project_processing"
    reels.update(actions=[Project.status.set("completed")])
    # the source dropped: 409 source_expired
    storage.s3_client().delete_object(Bucket=storage.bucket(), Key=reels.source_key)
    got, err = editor.call("PATCH", f"/v1/clips/{clip_id}", {"end": float(before["end"]) + 5})
    assert got == 409 and err["error"]["code"] == "source_expired"
    assert _snapshot(clip_id) == before
    # text-only edits apply at once, with no render
    got, body = editor.call("PATCH", f"/v1/clips/{clip_id}",
                            {"title": "Better title", "hashtags": ["pricing", "#saas"]})
    assert got == 200 and body["render"] is False and body["status"] == "ready" and body["version"] == 1
    assert (body["title"], body["hashtags"]) == ("Better title", ["#pricing", "#saas"])


def _first_sentence_words(seeded: dict[str, Any]) -> tuple[int, int]:
    s = seeded["sentences"][seeded["index"]]
    return s.first_word, s.last_word


FORMATS = {"otio": ("otio_json", {}), "fcpxml": ("fcpx_xml", {}), "fcp7xml": ("fcp_xml", {}),
           "edl": ("cmx_3600", {"rate": 25})}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_exports_read_back_with_the_clips_source_ranges(editor: Api, seeded: dict[str, Any], fmt: str) -> None:
    pid = seeded["project"].project_id
    clips = sorted((c for c in Clip.by_project.query(pid) if int(c.version) >= 1), key=lambda c: c.rank)
    assert len(clips) == 2  # the edited clip and the manual one
    status, text = _get_text(editor, f"/v1/projects/{pid}/export?format={fmt}")
    assert status == 200, text
    adapter, kwargs = FORMATS[fmt]
    timeline = otio.adapters.read_from_string(text, adapter, **kwargs)
    edits = list(timeline.find_clips())
    assert len(edits) == len(clips)
    for edit, clip in zip(edits, clips, strict=True):
        (start, end), = clip.source_ranges
        rng = edit.source_range
        assert rng.start_time.to_frames() == round(start * 25) and rng.start_time.rate == 25
        assert_end_frame(fmt, rng.end_time_exclusive().to_frames(), round(end * 25))
        assert "talk.mp4" in edit.media_reference.target_url
        names = " ".join(m.name for m in edit.markers).lower()
        assert clip.title.lower() in names and f"score {int(clip.virality_score)}" in names
    if fmt == "fcpxml":
        assert_fcpxml_exact(text, [r for c in clips for r in c.source_ranges], 25)
    status, text = _get_text(editor, f"/v1/projects/{pid}/export?format={fmt}&clip_ids={clips[1].clip_id}")
    assert len(list(otio.adapters.read_from_string(text, adapter, **kwargs).find_clips())) == 1
    status, text = _get_text(editor, f"/v1/projects/{pid}/export?format={fmt}&clip_ids=clip_nope")
    assert status == 404 and json.loads(text)["error"]["param"] == "clip_ids"


def test_delete_removes_every_version(editor: Api, seeded: dict[str, Any]) -> None:
    pid = seeded["project"].project_id
    prefix = storage.project_prefix(TENANT, pid)
    assert any("/v2/" in k for k in storage.list_keys(prefix))
    assert editor.call("DELETE", f"/v1/projects/{pid}")[0] == 204
    assert storage.list_keys(prefix) == [] and list(Clip.by_project.query(pid)) == []


def test_edit_with_a_template_style_and_layout_keyframes_renders_them(editor: Api, seeded: dict[str, Any],
                                                                     talk_path: Path, tmp_path: Path) -> None:
    """One render: a template (pop captions) under an inline tightening style and layout keyframes; the new
    version's duration, words and source_ranges are on the cut timeline and its keyframes are as asked."""
    transcript: Transcript = seeded["transcript"]
    project = _seed_project(talk_path, transcript, ["square"], None)
    sentences = seeded["sentences"]
    first = sentences[seeded["index"]]
    nxt = sentences[seeded["index"] + 1]
    clip_id = _seed_clip(project, transcript, first.first_word, nxt.last_word).clip_id
    status, tmpl = editor.call("POST", "/v1/templates", {"name": "Brand", "style": {
        "captions": {"preset": "pop", "font": "Lato", "position": "top"}, "hook_title": {"seconds": 1.0}}})
    assert status == 201, tmpl
    status, body = editor.call("PATCH", f"/v1/clips/{clip_id}", {
        "template_id": tmpl["id"],
        "style": {"tighten": {"remove_silences": True, "silence_threshold": 0.2, "pause": 0.1}},
        "layout": [{"at": 0.0, "layout": "focus"}, {"at": 2.0, "layout": "fit"}],
    })
    assert status == 200 and body["render"] is True, body
    desc = wait_execution(_execution(clip_id), 300)
    assert desc["status"] == "SUCCEEDED", desc
    clip = editor.call("GET", f"/v1/clips/{clip_id}")[1]
    assert clip["status"] == "ready" and clip["version"] == 2
    assert clip["style"]["captions"]["preset"] == "pop" and clip["style"]["tighten"]["silence_threshold"] == 0.2
    ranges = clip["source_ranges"]
    kept = sum(b - a for a, b in ranges)
    assert len(ranges) >= 2 and kept < clip["end"] - clip["start"] - 0.1, ranges  # pauses were cut
    assert ranges[0][0] >= clip["start"] - 1e-3 and ranges[-1][1] <= clip["end"] + 1e-3
    assert clip["duration_seconds"] == pytest.approx(kept, abs=0.02)
    row = Clip.get(clip_id)
    assert abs(_probe_seconds(row.renditions["square"]["key"], tmp_path) - kept) < 0.1
    words = clip["transcript"]["words"]
    assert words and words[-1]["end"] <= kept + 0.05
    gaps = [b["start"] - a["end"] for a, b in itertools.pairwise(words)]
    assert max(gaps) <= 0.2 + 0.05, gaps  # no pause longer than the threshold survives
    kinds = [(k["layout"], k["start"]) for k in clip["layout_keyframes"]]
    assert kinds[0] == ("focus", 0.0) and kinds[-1][0] == "fit", kinds
    assert kinds[-1][1] <= 2.0 + 1e-3  # the fit span starts at `at` mapped onto the cut timeline
