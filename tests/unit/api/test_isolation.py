"""Tenant isolation: another account gets 404 for every one of A's resources, and A's data is untouched."""

from __future__ import annotations

import requests

from chalicelib.data import storage
from chalicelib.data.models import Clip, Project, Publication

from .apienv import seed_completed_project, seed_social_account


def test_account_b_cannot_touch_account_a(env):
    a, b = env.key("acme"), env.key("bravo")
    seeded = seed_completed_project("acme")
    pid, clip_id = seeded["project_id"], seeded["clip_ids"][0]
    running = env.call("POST", "/v1/projects", a, {"video_url": "https://videos.example.com/a.mp4"}).json["id"]
    up = env.call("POST", "/v1/uploads", a, {"filename": "a.mp4", "content_type": "video/mp4", "size": 3}).json
    requests.put(up["upload_url"], data=b"abc", headers={"Content-Type": "video/mp4"}, timeout=5)
    sa_b = seed_social_account("bravo", "tiktok")
    a_body = env.call("GET", f"/v1/projects/{pid}", a).body
    job_id = env.call("POST", f"/v1/projects/{pid}/prompt", a, {"prompt": "pricing"}).json["id"]

    attempts = [
        ("GET", f"/v1/projects/{pid}", None),
        ("GET", f"/v1/projects/{running}", None),
        ("POST", f"/v1/projects/{pid}/prompt", {"prompt": "pricing"}),
        ("DELETE", f"/v1/projects/{pid}", None),
        ("DELETE", f"/v1/projects/{running}", None),
        ("GET", f"/v1/clips/{clip_id}", None),
        ("POST", f"/v1/clips/{clip_id}/publish", {"platform": "tiktok", "account_id": sa_b}),
        ("GET", f"/v1/clips/{clip_id}/publications", None),
        ("POST", f"/v1/uploads/{up['id']}/complete", None),
        ("GET", f"/v1/prompt-jobs/{job_id}", None),
    ]
    for method, path, body in attempts:
        r = env.call(method, path, b, body)
        assert r.status == 404, (method, path, r.status)
        err = r.json["error"]
        assert err["code"] == "resource_missing" and err["type"] == "not_found_error"
        assert "acme" not in r.body.decode()
    # an id that never existed looks exactly the same
    ghost = env.call("GET", "/v1/projects/proj_neverexisted", b).json["error"]
    theirs = env.call("GET", f"/v1/projects/{pid}", b).json["error"]
    assert ghost["code"] == theirs["code"] and ghost["type"] == theirs["type"]
    r = env.call("POST", "/v1/projects", b, {"upload_id": up["id"]})
    assert r.status == 404 and r.json["error"]["param"] == "upload_id"
    assert env.call("GET", "/v1/projects", b).json["data"] == []
    r = env.call("GET", f"/v1/projects?starting_after={pid}", b)
    assert r.status == 404 and r.json["error"]["code"] == "resource_missing"
    assert r.json["error"]["param"] == "starting_after"
    # A's data is intact
    assert env.call("GET", f"/v1/projects/{pid}", a).body.replace(b" ", b"")[:40] == a_body.replace(b" ", b"")[:40]
    assert Project.get(pid).status == "completed" and Project.get(running).status == "processing"
    assert Clip.count(clip_id) == 1 and list(Publication.scan()) == []
    assert len(storage.list_keys(storage.project_prefix("acme#live", pid))) == 6
    assert len(env.executions()) == 2  # A's project and A's prompt job, nothing from B
    # B's own social account cannot publish A's clip from A's side either
    r = env.call("POST", f"/v1/clips/{clip_id}/publish", a, {"platform": "tiktok", "account_id": sa_b})
    assert r.status == 404 and r.json["error"]["param"] == "account_id"


def test_newer_routes_are_scoped_to_account_and_mode(env):
    """Clip edits and exports, captions, manual clips, upload DELETE, webhook endpoints and deliveries,
    social accounts: another account and A's own other mode both get the same 404, and nothing of A's changes."""
    from chalicelib.data.models import SocialAccount, Upload, WebhookDelivery, WebhookEndpoint

    a = env.key("acme")
    outsiders = {"another account": env.key("bravo"), "the other mode": env.key("acme", mode="test")}
    seeded = seed_completed_project("acme")
    pid, clip_id = seeded["project_id"], seeded["clip_ids"][0]
    up = env.call("POST", "/v1/uploads", a, {"filename": "a.mp4", "content_type": "video/mp4", "size": 3}).json["id"]
    endpoint = env.call("POST", "/v1/webhook-endpoints", a, {"url": "https://hooks.example.com/a"}).json
    sa = seed_social_account("acme", "tiktok")
    env.call("POST", f"/v1/projects/{pid}/prompt", a, {"prompt": "pricing"})  # leaves a delivery for A
    delivery = next(d.event_id for d in WebhookDelivery.scan() if d.project_id == pid)
    clip_before = Clip.get(clip_id).attribute_values
    attempts = [
        ("PATCH", f"/v1/clips/{clip_id}", {"title": "mine now"}),
        ("GET", f"/v1/clips/{clip_id}/captions?format=srt", None),
        ("GET", f"/v1/projects/{pid}/clips", None),
        ("POST", f"/v1/projects/{pid}/clips", {"start": 1.0, "end": 20.0}),
        ("GET", f"/v1/projects/{pid}/export?format=otio", None),
        ("DELETE", f"/v1/uploads/{up}", None),
        ("GET", f"/v1/webhook-endpoints/{endpoint['id']}", None),
        ("POST", f"/v1/webhook-endpoints/{endpoint['id']}/rotate-secret", None),
        ("DELETE", f"/v1/webhook-endpoints/{endpoint['id']}", None),
        ("GET", f"/v1/webhook-endpoints?starting_after={endpoint['id']}", None),
        ("GET", f"/v1/webhooks/deliveries?project_id={pid}", None),
        ("POST", f"/v1/webhooks/deliveries/{delivery}/resend", None),
        ("GET", f"/v1/social-accounts/{sa}", None),
        ("DELETE", f"/v1/social-accounts/{sa}", None),
    ]
    for who, key in outsiders.items():
        for method, path, body in attempts:
            r = env.call(method, path, key, body)
            assert r.status == 404, (who, method, path, r.status, r.body)
            assert r.json["error"]["code"] == "resource_missing" and "acme" not in r.body.decode(), (who, path)
        for path in ("/v1/webhook-endpoints", "/v1/social-accounts"):
            assert env.call("GET", path, key).json["data"] == [], (who, path)
    # A's resources are untouched
    assert Clip.get(clip_id).attribute_values == clip_before
    assert Upload.get(up).tenant == "acme#live" and SocialAccount.get(sa).tenant == "acme#live"
    assert WebhookEndpoint.get(endpoint["id"]).tenant == "acme#live"
    assert [e["id"] for e in env.call("GET", "/v1/webhook-endpoints", a).json["data"]] == [endpoint["id"]]
    assert env.call("GET", f"/v1/webhooks/deliveries?project_id={pid}", a).json["data"]
