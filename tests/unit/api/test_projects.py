"""Projects: create (starts the pipeline), get, list, prompt, delete, and their errors."""

from __future__ import annotations

import json

import boto3

from chalicelib.data import quotas, storage
from chalicelib.data.models import Clip, Project, PromptJob, Publication, WebhookDelivery

from .apienv import REGION, seed_completed_project, seed_social_account

SEED_BODY = {
    "video_url": "https://youtube.com/watch?v=dQw4w9WgXcQ",
    "max_clips": 10,
    "caption_style": "karaoke",
    "platforms": ["youtube_shorts", "tiktok", "reels"],
}


def test_seed_example_creates_a_processing_project_and_starts_one_execution(env):
    key = env.key("acme", "creator")
    r = env.call("POST", "/v1/projects", key, SEED_BODY)
    assert r.status == 201
    project = r.json
    assert project["id"].startswith("proj_") and project["status"] == "processing"
    assert project["stage"] == "queued" and project["progress"] == 0
    assert project["platforms"] == SEED_BODY["platforms"] and project["max_clips"] == 10
    assert project["clips"] is None
    executions = env.executions()
    assert [e["name"] for e in executions] == [project["id"]]
    assert env.execution_input(project["id"]) == {"project_id": project["id"], "tenant": "acme#live"}
    row = Project.get(project["id"])
    assert row.execution_arn == executions[0]["executionArn"] and row.account_id == "acme"
    assert quotas.in_flight("acme") == 1
    assert r.header("X-Request-Id").startswith("req_")


def test_defaults_and_echoed_fields(env):
    key = env.key("acme")
    body = {"video_url": "https://videos.example.com/a.mp4", "metadata": {"customer": "c-42"},
            "webhook_url": "https://hooks.example.com/klipstar", "language": "en", "min_duration": 20,
            "max_duration": 45}
    r = env.call("POST", "/v1/projects", key, body)
    assert r.status == 201, r.json
    p = r.json
    assert p["max_clips"] == 10 and p["caption_style"] == "karaoke" and p["layout"] == "auto"
    assert p["platforms"] == ["youtube_shorts", "tiktok", "reels"]
    assert p["metadata"] == {"customer": "c-42"} and p["webhook_url"] == body["webhook_url"]
    assert (p["min_duration"], p["max_duration"], p["language"]) == (20.0, 45.0, "en")


def _error(r, status, code, param="__any__"):
    assert r.status == status, (r.status, r.json)
    err = r.json["error"]
    assert set(err) == {"type", "code", "message", "param"}
    assert err["code"] == code, err
    if param != "__any__":
        assert err["param"] == param, err
    assert r.header("X-Request-Id")
    return err


def test_field_errors_name_the_param(env):
    key = env.key("acme")
    url = {"video_url": "https://videos.example.com/a.mp4"}
    _error(env.call("POST", "/v1/projects", key, {**url, "colour": "red"}), 400, "unknown_field", "colour")
    _error(env.call("POST", "/v1/projects", key, {**url, "max_clips": 0}), 400, "invalid_field", "max_clips")
    _error(env.call("POST", "/v1/projects", key, {**url, "max_clips": 51}), 400, "invalid_field", "max_clips")
    _error(env.call("POST", "/v1/projects", key, {**url, "max_clips": "5"}), 400, "invalid_field", "max_clips")
    _error(env.call("POST", "/v1/projects", key, {**url, "caption_style": "comic"}), 400, "invalid_field",
           "caption_style")
    _error(env.call("POST", "/v1/projects", key, {**url, "layout": "zoom"}), 400, "invalid_field", "layout")
    _error(env.call("POST", "/v1/projects", key, {**url, "platforms": ["myspace"]}), 400, "invalid_field",
           "platforms.0")
    _error(env.call("POST", "/v1/projects", key, {**url, "min_duration": 50, "max_duration": 20}), 400,
           "invalid_field", "min_duration")
    _error(env.call("POST", "/v1/projects", key, {**url, "platforms": ["reels"], "min_duration": 100,
                                                  "max_duration": 120}), 400, "invalid_field", "min_duration")
    _error(env.call("POST", "/v1/projects", key, {**url, "metadata": {"a": 1}}), 400, "invalid_field", "metadata.a")
    _error(env.call("POST", "/v1/projects", key, {**url, "language": "Spanish"}), 400, "invalid_field", "language")
    _error(env.call("POST", "/v1/projects", key, {}), 400, "invalid_field", "video_url")
    _error(env.call("POST", "/v1/projects", key, {**url, "upload_id": "upl_x"}), 400, "invalid_field", "video_url")
    _error(env.call("POST", "/v1/projects", key, raw=b'{"video_url": ', headers={"Content-Type": "application/json"}),
           400, "invalid_json")
    _error(env.call("POST", "/v1/projects", key, raw=b"[1, 2]", headers={"Content-Type": "application/json"}),
           400, "invalid_json")
    _error(env.call("GET", "/v1/projects?colour=red", key), 400, "unknown_field", "colour")
    _error(env.call("GET", "/v1/projects?limit=0", key), 400, "invalid_field", "limit")
    assert env.executions() == [] and quotas.in_flight("acme") == 0


def test_language_auto_is_accepted(env):
    key = env.key("acme", "studio")
    r = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4", "language": "auto"})
    assert r.status == 201 and r.json["language"] == "auto"


def test_url_guard_refuses_private_and_odd_urls(env):
    key = env.key("acme")
    for url in ("http://169.254.169.254/latest/meta-data", "http://127.0.0.1:8080/v.mp4", "file:///etc/passwd",
                "ftp://videos.example.com/a.mp4", "http://user:pw@videos.example.com/a.mp4",
                "http://[::ffff:10.0.0.1]/a.mp4"):
        err = _error(env.call("POST", "/v1/projects", key, {"video_url": url}), 400, "url_refused", "video_url")
        assert err["type"] == "invalid_request_error"
    _error(env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4",
                                                  "webhook_url": "http://10.1.2.3/hook"}), 400, "url_refused",
           "webhook_url")
    assert env.executions() == []


def test_transport_errors_share_the_shape(env):
    key = env.key("acme")
    big = json.dumps({"video_url": "https://videos.example.com/a.mp4", "metadata": {"x": "y" * 70_000}}).encode()
    _error(env.call("POST", "/v1/projects", key, raw=big, headers={"Content-Type": "application/json"}), 413,
           "body_too_large")
    _error(env.call("POST", "/v1/projects", key, raw=b"video_url=x", headers={"Content-Type": "text/plain"}), 415,
           "unsupported_media_type")
    _error(env.call("PUT", "/v1/projects", key), 405, "method_not_allowed")
    _error(env.call("PATCH", "/v1/projects/proj_abc", key), 405, "method_not_allowed")
    _error(env.call("GET", "/v1/nothing-here", key), 404, "resource_missing")
    _error(env.call("GET", "/v2/projects/a/b/c", key), 404, "resource_missing")
    _error(env.call("GET", "/v1/projects/proj_doesnotexist", key), 404, "resource_missing")


def test_internal_errors_are_500_without_internals(env, monkeypatch):
    key = env.key("acme")
    from chalicelib.api.routes import projects

    def explode(*_a, **_k):
        raise RuntimeError("secret internals: arn:aws:states:xyz")

    monkeypatch.setattr(projects, "start_pipeline", explode)
    r = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"})
    err = _error(r, 500, "internal_error")
    assert err["type"] == "api_error" and "secret" not in r.body.decode() and "arn:" not in r.body.decode()
    # nothing half-made: no project row, the slot given back
    assert list(Project.by_tenant.query("acme#live")) == [] and quotas.in_flight("acme") == 0


def test_get_completed_project_lists_clips_in_rank_order(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    r = env.call("GET", f"/v1/projects/{seeded['project_id']}", key)
    assert r.status == 200
    p = r.json
    assert p["status"] == "completed" and p["progress"] == 100
    assert [c["id"] for c in p["clips"]] == seeded["clip_ids"]
    first = p["clips"][0]
    assert first["project_id"] == seeded["project_id"] and first["virality_score"] == 92
    assert set(first["platforms"]) == {"youtube_shorts", "tiktok", "reels"}
    assert "prompt" not in first


def test_list_paginates_newest_first_and_filters_by_status(env):
    key = env.key("acme", "studio")
    created = [env.call("POST", "/v1/projects", key, {"video_url": f"https://videos.example.com/{i}.mp4"}).json["id"]
               for i in range(5)]
    done = seed_completed_project("acme")["project_id"]
    newest_first = [done, *reversed(created)]
    page1 = env.call("GET", "/v1/projects?limit=4", key).json
    assert page1["object"] == "list" and page1["has_more"] is True
    assert [p["id"] for p in page1["data"]] == newest_first[:4]
    page2 = env.call("GET", f"/v1/projects?limit=4&starting_after={page1['data'][-1]['id']}", key).json
    assert [p["id"] for p in page2["data"]] == newest_first[4:] and page2["has_more"] is False
    completed = env.call("GET", "/v1/projects?status=completed", key).json
    assert [p["id"] for p in completed["data"]] == [done]
    processing = env.call("GET", "/v1/projects?status=processing&limit=2", key).json
    assert [p["id"] for p in processing["data"]] == newest_first[1:3] and processing["has_more"] is True
    _error(env.call("GET", "/v1/projects?status=lost", key), 400, "invalid_field", "status")
    _error(env.call("GET", "/v1/projects?starting_after=proj_nope", key), 404, "resource_missing", "starting_after")
    _error(env.call("GET", "/v1/projects?starting_after=clip_x", key), 400, "invalid_field", "starting_after")


def test_prompt_job_starts_the_pipeline_with_its_id(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    r = env.call("POST", f"/v1/projects/{seeded['project_id']}/prompt", key,
                 {"prompt": "the part about pricing", "max_clips": 2})
    assert r.status == 202, r.json
    job = r.json
    assert job["id"].startswith("pj_") and job["status"] == "processing" and job["clip_ids"] == []
    assert env.execution_input(job["id"]) == {"project_id": seeded["project_id"], "tenant": "acme#live",
                                              "prompt_job_id": job["id"]}
    assert PromptJob.get(job["id"]).execution_arn
    polled = env.call("GET", f"/v1/prompt-jobs/{job['id']}", key)
    assert polled.status == 200 and polled.json == job
    PromptJob.get(job["id"]).update(actions=[PromptJob.status.set("completed"), PromptJob.reason.set("no match")])
    done = env.call("GET", f"/v1/prompt-jobs/{job['id']}", key).json
    assert done["status"] == "completed" and done["reason"] == "no match" and done["clip_ids"] == []
    assert env.call("GET", f"/v1/prompt-jobs/{job['id']}", env.key("bravo")).status == 404
    assert env.call("GET", "/v1/prompt-jobs/pj_nothere", key).status == 404
    _error(env.call("POST", f"/v1/projects/{seeded['project_id']}/prompt", key, {"prompt": "   "}), 400,
           "invalid_field", "prompt")
    _error(env.call("POST", f"/v1/projects/{seeded['project_id']}/prompt", key, {"prompt": "x", "max_clips": 11}),
           400, "invalid_field", "max_clips")


def test_prompt_conflicts_while_processing_or_failed(env):
    key = env.key("acme")
    pid = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"}).json["id"]
    _error(env.call("POST", f"/v1/projects/{pid}/prompt", key, {"prompt": "pricing"}), 409, "project_processing")
    Project.get(pid).update(actions=[Project.status.set("failed")])
    _error(env.call("POST", f"/v1/projects/{pid}/prompt", key, {"prompt": "pricing"}), 409, "project_failed")
    _error(env.call("POST", "/v1/projects/proj_nope/prompt", key, {"prompt": "pricing"}), 404, "resource_missing")


def test_delete_running_project_stops_execution_and_frees_the_slot(env):
    key = env.key("acme", "spark")
    pid = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"}).json["id"]
    tenant = "acme#live"
    storage.put_json(storage.work_key(tenant, pid, "manifest.json"), {"x": 1})
    assert quotas.in_flight("acme") == 1
    r = env.call("DELETE", f"/v1/projects/{pid}", key)
    assert r.status == 204 and r.body == b""
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = env.executions()[0]["executionArn"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert quotas.in_flight("acme") == 0
    assert storage.list_keys(storage.project_prefix(tenant, pid)) == []
    _error(env.call("GET", f"/v1/projects/{pid}", key), 404, "resource_missing")
    _error(env.call("DELETE", f"/v1/projects/{pid}", key), 404, "resource_missing")
    # the slot is free again: a Spark account may start a new project
    assert env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/b.mp4"}).status == 201


def test_delete_completed_project_leaves_no_row_and_no_object(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    pid, clip_ids, tenant = seeded["project_id"], seeded["clip_ids"], seeded["tenant"]
    sa = seed_social_account("acme", "tiktok")
    assert env.call("POST", f"/v1/clips/{clip_ids[0]}/publish", key,
                    {"platform": "tiktok", "account_id": sa, "privacy": "private"}).status \
        == 202
    assert env.call("POST", f"/v1/projects/{pid}/prompt", key, {"prompt": "pricing"}).status == 202
    # source + transcript, and per clip one 1080x1920 render (shared by the three platforms) + a thumbnail
    assert len(storage.list_keys(storage.project_prefix(tenant, pid))) == 2 + 2 * len(clip_ids)
    assert env.call("DELETE", f"/v1/projects/{pid}", key).status == 204
    assert storage.list_keys(storage.tenant_prefix(tenant)) == []
    assert list(Clip.by_project.query(pid)) == []
    assert list(PromptJob.by_project.query(pid)) == []
    assert list(WebhookDelivery.by_project.query(pid)) == []
    assert [p for c in clip_ids for p in Publication.by_clip.query(c)] == []
    for table in (Project, Clip, PromptJob, Publication, WebhookDelivery):
        assert [row for row in table.scan() if getattr(row, "tenant", None) == tenant] == []
    for clip_id in clip_ids:
        _error(env.call("GET", f"/v1/clips/{clip_id}", key), 404, "resource_missing")
        _error(env.call("GET", f"/v1/clips/{clip_id}/publications", key), 404, "resource_missing")
    _error(env.call("POST", f"/v1/projects/{pid}/prompt", key, {"prompt": "x"}), 404, "resource_missing")
    assert env.call("GET", "/v1/projects", key).json["data"] == []
    assert quotas.in_flight("acme") == 0


def test_request_id_is_in_the_header_and_the_json_log(env, caplog):
    from chalicelib.api.middleware import logger

    key = env.key("acme")
    caplog.set_level("INFO", logger="klipstar-api")
    r = env.call("GET", "/v1/projects/proj_nope", key)
    request_id = r.header("X-Request-Id")
    record = next(rec for rec in caplog.records if getattr(rec, "request_id", None) == request_id)
    assert record.getMessage() == "request" and record.status == 404 and record.account_id == "acme"
    entry = json.loads(logger.registered_formatter.format(record))  # the JSON line powertools writes
    assert entry["request_id"] == request_id and entry["service"] == "klipstar-api" and entry["status"] == 404
    assert key not in json.dumps(entry)
