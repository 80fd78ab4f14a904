"""PATCH /v1/clips/{id} and POST /v1/projects/{id}/clips at the API: the render-only execution they start,
Idempotency-Key replays, rate limits, 409s, and no half-written state when the start fails."""

from __future__ import annotations

from chalicelib.api import clip_edits
from chalicelib.data import storage
from chalicelib.data.models import Clip, Project, RateCounter
from chalicelib.engine.types import Transcript, Word

from .apienv import seed_completed_project

# words every 0.5 s (0.4 s long, 0.1 s gaps) with a 0.6 s pause after every fifth word
WORDS = [Word(f"w{i}.", 10 + i * 0.5 + (i // 5) * 0.6, 10 + i * 0.5 + (i // 5) * 0.6 + 0.4) for i in range(600)]


def _editable(account: str, mode: str = "live", plan_platforms: tuple[str, ...] = ("youtube_shorts",)) -> dict:
    seeded = seed_completed_project(account, mode, durations=(30.0,), platforms=plan_platforms)
    project = Project.get(seeded["project_id"])
    storage.put_json(project.transcript_key, Transcript("en", 600.0, WORDS).to_dict())
    return seeded


def _row(clip_id: str) -> dict:
    row = Clip.get(clip_id, consistent_read=True)
    return {k: getattr(row, k) for k in ("status", "pending", "version", "start", "end", "title")}


def test_patch_starts_one_render_only_execution_and_replays_with_its_key(env):
    key = env.key("acme")
    seeded = _editable("acme")
    clip_id = seeded["clip_ids"][0]
    hdr = {"Idempotency-Key": "extend-1"}
    first = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"end": 45.0}, headers=hdr)
    assert first.status == 200, first.json
    assert first.json["status"] == "rendering" and first.json["render"] is True and first.json["version"] == 1
    snapped_end = first.json["snapped"]["end"]
    assert snapped_end["requested"] == 45.0 and snapped_end["by"] == round(snapped_end["snapped"] - 45.0, 3)
    (execution,) = env.executions()
    payload = env.execution_input(execution["name"])
    assert payload == {"project_id": seeded["project_id"], "tenant": seeded["tenant"],
                       "clip_edit": {"clip_id": clip_id, "version": 2}}
    pending = Clip.get(clip_id).pending
    assert pending["version"] == 2 and pending["end"] == snapped_end["snapped"]
    assert pending["execution_arn"] == execution["executionArn"] and pending["caption_style"] == "karaoke"
    replay = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"end": 45.0}, headers=hdr)
    assert replay.status == 200 and replay.header("Idempotent-Replayed") == "true"
    assert len(env.executions()) == 1
    other = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"end": 46.0}, headers=hdr)
    assert other.status == 422 and other.json["error"]["code"] == "idempotency_key_reused"
    busy = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"end": 46.0})
    assert busy.status == 409 and busy.json["error"]["code"] == "clip_rendering"
    assert len(env.executions()) == 1


def test_style_preset_and_layout_are_stored_for_the_render(env):
    key = env.key("acme")
    clip_id = _editable("acme")["clip_ids"][0]
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key, {
        "style": {"captions": {"preset": "bold"}},
        "layout": [{"at": 4.0, "layout": "fit"}, {"at": 0.0, "layout": "focus"}]})
    assert r.status == 200 and r.json["render"] is True and r.json["snapped"] is None
    pending = Clip.get(clip_id).pending
    assert pending["caption_style"] == "bold" and pending["style"] == {"captions": {"preset": "bold"}}
    assert pending["layout"] == [{"at": 0.0, "layout": "focus"}, {"at": 4.0, "layout": "fit"}]
    assert (pending["start"], pending["end"]) == (0.0, 30.0)  # range untouched: not snapped


def test_a_failed_start_leaves_the_clip_as_it_was(env, monkeypatch):
    key = env.key("acme")
    clip_id = _editable("acme")["clip_ids"][0]
    before = _row(clip_id)

    def broken(name, payload):
        raise RuntimeError("step functions unavailable")

    monkeypatch.setattr(clip_edits, "start_pipeline", broken)
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"end": 45.0, "title": "new"})
    assert r.status == 500
    assert _row(clip_id) == before
    project_id = Clip.get(clip_id).project_id
    r = env.call("POST", f"/v1/projects/{project_id}/clips", key, {"start": 100.0, "end": 120.0})
    assert r.status == 500
    assert [c.clip_id for c in Clip.by_project.query(project_id)] == [clip_id]


def test_manual_clip_with_a_key_is_created_once(env):
    key = env.key("acme")
    project_id = _editable("acme")["project_id"]
    hdr = {"Idempotency-Key": "manual-1"}
    first = env.call("POST", f"/v1/projects/{project_id}/clips", key, {"start": 100.0, "end": 120.0}, headers=hdr)
    assert first.status == 201, first.json
    assert first.json["manual"] is True and first.json["rank"] == 1 and first.json["version"] == 0
    again = env.call("POST", f"/v1/projects/{project_id}/clips", key, {"start": 100.0, "end": 120.0}, headers=hdr)
    assert again.json["id"] == first.json["id"] and again.header("Idempotent-Replayed") == "true"
    assert len(list(Clip.by_project.query(project_id))) == 2 and len(env.executions()) == 1
    too_long = env.call("POST", f"/v1/projects/{project_id}/clips", key, {"start": 0.0, "end": 300.0})
    assert too_long.status == 422 and too_long.json["error"]["param"] == "end"  # shorts: 180 s


def test_edits_count_against_the_rate_limit(env):
    key = env.key("solo", "spark")
    clip_id = _editable("solo")["clip_ids"][0]
    minute = int(env.clock.t // 60)
    assert env.call("PATCH", f"/v1/clips/{clip_id}", key, {"title": "one"}, tick=False).status == 200
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"title": "two"}, tick=False)
    assert r.status == 429 and r.json["error"]["code"] == "rate_limited"
    assert RateCounter.get(f"solo#min#{minute}").count >= 1
    assert Clip.get(clip_id).title == "one"
