"""PATCH /v1/clips/{id} and POST /v1/projects/{id}/clips at the API: the render-only execution they start,
Idempotency-Key replays, rate limits, 409s, and no half-written state when the start fails."""

from __future__ import annotations

from chalicelib.api import clip_edits
from chalicelib.data import storage
from chalicelib.data.models import Clip, Project, RateCounter
from chalicelib.engine.ffmpeg import run_ffmpeg
from chalicelib.engine.types import Transcript, Word

from .apienv import seed_completed_project
from .test_templates import STYLE, _err, _upload

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
    assert pending["watermark_key"] is None and pending["template_id"] is None
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


def test_edit_style_is_template_and_inline_over_the_clips_style(env):
    key = env.key("acme")
    seeded = _editable("acme")
    clip_id, project_id = seeded["clip_ids"][0], seeded["project_id"]
    Clip(clip_id).update(actions=[Clip.style.set({"captions": {"preset": "bold", "font": "Roboto"},
                                                  "hook_title": {"text": "Old hook"}})])
    t = env.call("POST", "/v1/templates", key, {"name": "Brand", "style": STYLE}).json
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key,
                 {"template_id": t["id"], "style": {"captions": {"color": "#FFEE00"}}})
    assert r.status == 200 and r.json["render"] is True, r.json
    pending = Clip.get(clip_id).pending
    caps = pending["style"]["captions"]
    assert caps["preset"] == "pop" and caps["font"] == "Lato" and caps["color"] == "#FFEE00"  # template, inline
    hook = pending["style"]["hook_title"]
    assert hook["text"] == "Old hook" and hook["seconds"] == 2.5  # the clip's own fields stay under the template
    assert pending["style"]["tighten"]["remove_silences"] is True and pending["template_id"] == t["id"]
    assert pending["caption_style"] == "pop"
    # a manual clip starts from the project's style, under the template
    m = env.call("POST", f"/v1/projects/{project_id}/clips", key,
                 {"start": 100.0, "end": 120.0, "template_id": t["id"]})
    assert m.status == 201, m.json
    row = Clip.get(m.json["id"])
    assert row.style["captions"]["font"] == "Lato" and row.pending["style"] == row.style
    assert m.json["style"]["captions"]["preset"] == "pop"


def test_bad_edit_styles_name_the_field_and_change_nothing(env, tmp_path):
    key = env.key("acme")
    seeded = _editable("acme")
    clip_id, project_id = seeded["clip_ids"][0], seeded["project_id"]
    before = _row(clip_id)
    theirs = env.call("POST", "/v1/templates", env.key("globex"), {"name": "Theirs", "style": STYLE}).json
    _err(env.call("PATCH", f"/v1/clips/{clip_id}", key, {"template_id": theirs["id"]}),
         404, "resource_missing", "template_id")
    _err(env.call("POST", f"/v1/projects/{project_id}/clips", key,
                  {"start": 100.0, "end": 120.0, "template_id": theirs["id"]}), 404, "resource_missing", "template_id")
    _err(env.call("PATCH", f"/v1/clips/{clip_id}", key, {"style": {"captions": {"font": "Comic Sans"}}}),
         400, None, "style.captions.font")
    text = tmp_path / "logo.png"
    text.write_text("not an image at all " * 20)
    bad = _upload(env, key, text, "image/png")
    _err(env.call("PATCH", f"/v1/clips/{clip_id}", key, {"style": {"watermark": {"upload_id": bad}}}),
         400, "invalid_watermark", "style.watermark.upload_id")
    assert _row(clip_id) == before and env.executions() == []
    assert [c.clip_id for c in Clip.by_project.query(project_id)] == [clip_id]


def test_a_new_watermark_is_stored_per_version_and_dropped_when_the_edit_cannot_start(env, tmp_path, monkeypatch):
    key = env.key("acme")
    clip_id = _editable("acme")["clip_ids"][0]
    png = tmp_path / "real.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=64x32:d=0.1", "-frames:v", "1", str(png)])
    good = _upload(env, key, png, "image/png")

    def broken(name, payload):
        raise RuntimeError("step functions unavailable")

    monkeypatch.setattr(clip_edits, "start_pipeline", broken)
    tenant = Clip.get(clip_id).tenant
    prefix = storage.project_prefix(tenant, Clip.get(clip_id).project_id)
    keys_before = set(storage.list_keys(prefix))
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"style": {"watermark": {"upload_id": good}}})
    assert r.status == 500 and Clip.get(clip_id).pending is None
    assert set(storage.list_keys(prefix)) == keys_before  # the stored image went with the failed edit
    monkeypatch.undo()
    r = env.call("PATCH", f"/v1/clips/{clip_id}", key, {"style": {"watermark": {"upload_id": good}}})
    assert r.status == 200, r.json
    pending = Clip.get(clip_id).pending
    assert pending["watermark_key"].endswith(f"watermark-{clip_id}-v2.png")
    assert storage.object_size(pending["watermark_key"]) == png.stat().st_size
