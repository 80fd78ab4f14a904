"""Templates (saved styles) and the `style` of projects and prompt jobs: CRUD, pagination, isolation,
deep merge with inline fields, field-named errors, and the watermark image checked at submission."""

from __future__ import annotations

from pathlib import Path

import requests

from chalicelib.data import storage
from chalicelib.data.models import Project, PromptJob
from chalicelib.engine.ffmpeg import run_ffmpeg

from .apienv import seed_completed_project

STYLE = {
    "captions": {"preset": "pop", "font": "Lato", "color": "#FFFFFF", "highlight_color": "#00E1FF",
                 "position": "top", "max_words_per_line": 3, "background": {"color": "#000000", "opacity": 0.5}},
    "hook_title": {"seconds": 2.5},
    "tighten": {"remove_silences": True},
}  # fmt: skip
VIDEO = "https://videos.example.com/talk.mp4"


def _err(r, status: int, code: str | None, param: str | None) -> None:
    assert r.status == status, (r.status, r.json)
    if code:
        assert r.json["error"]["code"] == code, r.json
    assert r.json["error"]["param"] == param, r.json


def test_template_crud_and_pagination(env):
    key = env.key("acme")
    created = env.call("POST", "/v1/templates", key, {"name": "Brand", "style": STYLE})
    assert created.status == 201, created.json
    t = created.json
    assert t["id"].startswith("tmpl_") and t["object"] == "template" and t["name"] == "Brand"
    assert t["style"]["captions"]["font"] == "Lato" and t["style"]["hook_title"]["seconds"] == 2.5
    assert env.call("GET", f"/v1/templates/{t['id']}", key).json == t
    patched = env.call("PATCH", f"/v1/templates/{t['id']}", key,
                       {"name": "Brand v2", "style": {"captions": {"color": "#FFEE00CC"}}})
    assert patched.status == 200, patched.json
    assert patched.json["name"] == "Brand v2"
    caps = patched.json["style"]["captions"]
    assert caps["color"] == "#FFEE00CC" and caps["font"] == "Lato" and caps["preset"] == "pop"  # deep merge
    for n in range(3):
        env.clock.advance(1)
        assert env.call("POST", "/v1/templates", key, {"name": f"t{n}", "style": {}}).status == 201
    page = env.call("GET", "/v1/templates?limit=2", key).json
    assert [x["name"] for x in page["data"]] == ["t2", "t1"] and page["has_more"] is True
    rest = env.call("GET", f"/v1/templates?limit=2&starting_after={page['data'][-1]['id']}", key).json
    assert [x["name"] for x in rest["data"]] == ["t0", "Brand v2"] and rest["has_more"] is False
    assert env.call("DELETE", f"/v1/templates/{t['id']}", key).status == 204
    _err(env.call("GET", f"/v1/templates/{t['id']}", key), 404, "resource_missing", None)


def test_another_accounts_template_is_404_everywhere(env):
    mine, theirs, my_test = env.key("acme"), env.key("globex"), env.key("acme", mode="test")
    t = env.call("POST", "/v1/templates", theirs, {"name": "Theirs", "style": STYLE}).json
    for key in (mine, my_test):
        _err(env.call("GET", f"/v1/templates/{t['id']}", key), 404, "resource_missing", None)
        _err(env.call("PATCH", f"/v1/templates/{t['id']}", key, {"name": "x"}), 404, "resource_missing", None)
        _err(env.call("DELETE", f"/v1/templates/{t['id']}", key), 404, "resource_missing", None)
        _err(env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "template_id": t["id"]}),
             404, "resource_missing", "template_id")
        assert env.call("GET", "/v1/templates", key).json["data"] == []
    project_id = seed_completed_project("acme")["project_id"]
    _err(env.call("POST", f"/v1/projects/{project_id}/prompt", mine, {"prompt": "pricing", "template_id": t["id"]}),
         404, "resource_missing", "template_id")
    assert env.call("GET", f"/v1/templates/{t['id']}", theirs).status == 200  # untouched
    assert env.executions() == []


def test_bad_style_fields_are_named(env):
    key = env.key("acme")
    cases = [
        ("POST", "/v1/templates", {"name": "x", "style": {"captions": {"font": "Comic Sans"}}}, "style.captions.font"),
        ("POST", "/v1/projects", {"video_url": VIDEO, "style": {"captions": {"color": "#12G456"}}},
         "style.captions.color"),
        ("POST", "/v1/projects", {"video_url": VIDEO, "style": {"hook_title": {"position": "left"}}},
         "style.hook_title.position"),
        ("POST", "/v1/projects", {"video_url": VIDEO, "style": {"watermark": {"corner": "top_left"}}},
         "style.watermark"),
    ]
    for method, path, body, param in cases:
        _err(env.call(method, path, key, body), 400, "invalid_field", param)
    t = env.call("POST", "/v1/templates", key, {"name": "ok", "style": {}}).json
    _err(env.call("PATCH", f"/v1/templates/{t['id']}", key, {"style": {"captions": {"highlight_color": "yellow"}}}),
         400, "invalid_field", "style.captions.highlight_color")
    assert env.call("GET", f"/v1/templates/{t['id']}", key).json["style"] == t["style"]  # nothing half-written
    _err(env.call("POST", "/v1/projects", key,
                  {"video_url": VIDEO, "style": {"watermark": {"url": "http://169.254.169.254/logo.png"}}}),
         422, "url_refused", "style.watermark.url")  # a well-formed URL the guard refuses
    for local in ("/etc/hostname", "file:///etc/hostname", "logo.png"):  # never a file of the server's
        _err(env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "style": {"watermark": {"url": local}}}),
             400, "url_refused", "style.watermark.url")
    assert env.executions() == [] and Project.count() == 0


def test_project_style_is_template_under_inline_fields(env):
    key = env.key("acme")
    t = env.call("POST", "/v1/templates", key, {"name": "Brand", "style": STYLE}).json
    body = {"video_url": VIDEO, "template_id": t["id"],
            "style": {"captions": {"font": "Roboto", "position": "bottom"}, "tighten": {"remove_filler_words": True}}}
    r = env.call("POST", "/v1/projects", key, body)
    assert r.status == 201, r.json
    style = r.json["style"]
    assert r.json["template_id"] == t["id"] and r.json["caption_style"] == "pop"
    assert style["captions"]["font"] == "Roboto" and style["captions"]["position"] == "bottom"  # inline wins
    assert style["captions"]["highlight_color"] == "#00E1FF" and style["hook_title"]["seconds"] == 2.5  # template
    assert style["tighten"]["remove_filler_words"] is True and style["tighten"]["remove_silences"] is True
    assert Project.get(r.json["id"]).style == style
    legacy = env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "caption_style": "bold",
                                                    "template_id": t["id"]}).json
    assert legacy["style"]["captions"]["preset"] == "bold"  # an explicit caption_style is the preset
    plain = env.call("POST", "/v1/projects", key, {"video_url": VIDEO}).json
    assert plain["style"] == {"captions": {"preset": "karaoke"}} and plain["template_id"] is None


def _upload(env, key: str, path: Path, content_type: str) -> str:
    data = path.read_bytes()
    up = env.call("POST", "/v1/uploads", key, {"filename": path.name, "content_type": content_type,
                                               "size": len(data)}).json
    assert requests.put(up["upload_url"], data=data, headers={"Content-Type": content_type}, timeout=5).ok
    assert env.call("POST", f"/v1/uploads/{up['id']}/complete", key).status == 200
    return str(up["id"])


def test_watermark_upload_must_be_an_image(env, tmp_path: Path):
    key = env.key("acme")
    text = tmp_path / "logo.png"
    text.write_text("not an image at all " * 20)
    bad = _upload(env, key, text, "image/png")
    _err(env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "style": {"watermark": {"upload_id": bad}}}),
         400, "invalid_watermark", "style.watermark.upload_id")
    assert Project.count() == 0 and env.executions() == []
    other = _upload(env, env.key("globex"), text, "image/png")
    _err(env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "style": {"watermark": {"upload_id": other}}}),
         404, "resource_missing", "style.watermark.upload_id")
    png = tmp_path / "real.png"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "color=c=red:s=64x32:d=0.1", "-frames:v", "1", str(png)])
    good = _upload(env, key, png, "image/png")
    r = env.call("POST", "/v1/projects", key, {"video_url": VIDEO, "style": {"watermark": {"upload_id": good}}})
    assert r.status == 201, r.json
    row = Project.get(r.json["id"])
    assert row.watermark_key and row.watermark_key.startswith(storage.project_prefix("acme#live", row.project_id))
    assert storage.object_size(row.watermark_key) == png.stat().st_size
    assert r.json["style"]["watermark"]["corner"] == "top_right"


def test_prompt_job_style_defaults_to_the_project_and_takes_overrides(env):
    key = env.key("acme")
    project_id = seed_completed_project("acme")["project_id"]
    r = env.call("POST", f"/v1/projects/{project_id}/prompt", key, {"prompt": "pricing"})
    assert r.status == 202, r.json
    assert PromptJob.get(r.json["id"]).style == {"captions": {"preset": "karaoke"}}
    r = env.call("POST", f"/v1/projects/{project_id}/prompt", key,
                 {"prompt": "pricing", "style": {"captions": {"preset": "boxed"}, "hook_title": {"text": "Hi"}}})
    assert r.status == 202, r.json
    assert r.json["style"]["captions"]["preset"] == "boxed" and r.json["style"]["hook_title"]["text"] == "Hi"
