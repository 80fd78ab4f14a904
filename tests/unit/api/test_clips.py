"""Clips: the webhook shape plus detail, fresh presigned URLs, publishing and its limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from chalicelib.data.models import Clip, Publication, utcnow

from .apienv import seed_completed_project, seed_social_account
from .sigv4 import presigned_signature_valid

SEED_CLIP_KEYS = {"id", "title", "virality_score", "duration_seconds", "download_url", "platforms"}


def SECRET() -> str:
    """The secret the S3 client signs with (mock_aws installs its own fake credentials)."""
    from chalicelib.data import storage

    return storage.s3_client()._request_signer._credentials.get_frozen_credentials().secret_key


def _query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_clip_shape_and_presigned_downloads(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    clip_id = seeded["clip_ids"][0]
    r = env.call("GET", f"/v1/clips/{clip_id}", key)
    assert r.status == 200
    clip = r.json
    assert set(clip) >= SEED_CLIP_KEYS
    assert clip["id"] == clip_id and clip["project_id"] == seeded["project_id"]
    assert (clip["start"], clip["end"], clip["duration_seconds"]) == (0.0, 30.0, 30.0)
    assert clip["sub_scores"] == {"hook": 80.0, "payoff": 70.5} and clip["reason"] == "strong hook"
    assert clip["description"] == "About pricing" and clip["hashtags"] == ["#pricing"]
    assert clip["transcript"]["text"] == "hello world"
    assert clip["quotes"] == [{"drives": "hook", "first_word": 0, "last_word": 1, "start": 0.0, "end": 0.4,
                               "text": "hello world"}]
    assert set(clip["platforms"]) == {"youtube_shorts", "tiktok", "reels"}
    assert all(set(v) == {"width", "height", "download_url"} for v in clip["platforms"].values())
    assert clip["platforms"]["tiktok"]["width"] == 1080 and clip["platforms"]["tiktok"]["height"] == 1920
    assert "prompt" not in clip and "relevance" not in clip
    row = Clip.get(clip_id)
    url = clip["download_url"]
    assert url == clip["platforms"]["youtube_shorts"]["download_url"]  # the first requested platform
    q = _query(url)
    assert q["X-Amz-Expires"] == "3600" and q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-SignedHeaders"] == "host"
    assert unquote(urlsplit(url).path).endswith("/" + row.renditions["youtube_shorts"]["key"])
    assert presigned_signature_valid(url, "GET", SECRET())
    assert not presigned_signature_valid(url, "PUT", SECRET())
    assert not presigned_signature_valid(url.replace("1080x1920", "1080x1080"), "GET", SECRET())
    # the platforms share one 1080x1920 render, so the object holds the seed's last write
    assert requests.get(url, timeout=5).content == f"video {clip_id} reels".encode()
    thumb = clip["thumbnail_url"]
    assert unquote(urlsplit(thumb).path).endswith(row.thumbnail_key)
    assert presigned_signature_valid(thumb, "GET", SECRET())


def test_project_shows_chapters_and_quality(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    project = env.call("GET", f"/v1/projects/{seeded['project_id']}", key).json
    assert project["chapters"] == [{"start": 0.5, "end": 61.2, "title": "Pricing Founders"},
                                   {"start": 62.0, "end": 599.0, "title": "Sleep Memory"}]
    assert project["quality"]["level"] == "ok" and project["quality"]["best_score"] == 92
    fresh = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"}).json
    assert fresh["chapters"] is None and fresh["quality"] is None  # not scored yet


def test_presign_expiry_is_a_setting(env, monkeypatch):
    from chalicelib.settings import get_settings

    monkeypatch.setenv("KLIPSTAR_PRESIGN_EXPIRY_SECONDS", "120")
    get_settings.cache_clear()
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    clip = env.call("GET", f"/v1/clips/{seeded['clip_ids'][0]}", key).json
    assert {_query(v["download_url"])["X-Amz-Expires"] for v in clip["platforms"].values()} == {"120"}


def test_prompt_clips_carry_prompt_and_relevance(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    Clip.get(seeded["clip_ids"][1]).update(actions=[
        Clip.prompt.set("pricing"), Clip.relevance.set(0.81), Clip.prompt_job_id.set("pj_abc")])
    clip = env.call("GET", f"/v1/clips/{seeded['clip_ids'][1]}", key).json
    assert (clip["prompt"], clip["relevance"], clip["prompt_job_id"]) == ("pricing", 0.81, "pj_abc")


def test_publish_queues_a_publication(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme")
    clip_id = seeded["clip_ids"][0]
    sa = seed_social_account("acme", "tiktok")
    when = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    r = env.call("POST", f"/v1/clips/{clip_id}/publish", key,
                 {"platform": "tiktok", "account_id": sa, "title": "Watch", "description": "d", "privacy": "private",
                  "schedule_at": when.isoformat()})
    assert r.status == 202, r.json
    pub = r.json
    assert pub["id"].startswith("pub_") and pub["status"] == "queued" and pub["clip_id"] == clip_id
    assert pub["platform"] == "tiktok" and pub["privacy"] == "private" and pub["account_id"] == sa
    assert datetime.fromisoformat(pub["schedule_at"].replace("Z", "+00:00")) == when.astimezone(UTC)
    # a future schedule_at is not queued now: it waits for its schedule (EventBridge on AWS, the local loop)
    assert env.queue_messages() == []
    assert Publication.get(pub["id"]).tenant == "acme#live"
    listing = env.call("GET", f"/v1/clips/{clip_id}/publications", key).json
    assert listing["object"] == "list" and [p["id"] for p in listing["data"]] == [pub["id"]]
    # default title is the clip's
    sa2 = seed_social_account("acme", "instagram")
    r2 = env.call("POST", f"/v1/clips/{clip_id}/publish", key, {"platform": "reels", "account_id": sa2})
    assert r2.status == 202 and r2.json["title"] == "Clip 0" and r2.json["privacy"] == "public"
    assert env.queue_messages() == [{"publication_id": r2.json["id"]}]  # no schedule: queued at once
    listing = env.call("GET", f"/v1/clips/{clip_id}/publications", key).json
    assert [p["id"] for p in listing["data"]] == [r2.json["id"], pub["id"]]


def test_publish_checks_platform_limits_and_accounts(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme", durations=(30.0, 120.0))
    short, long_ = seeded["clip_ids"]
    ig = seed_social_account("acme", "instagram")
    yt = seed_social_account("acme", "youtube")
    foreign = seed_social_account("bravo", "instagram")

    def publish(clip, body):
        return env.call("POST", f"/v1/clips/{clip}/publish", key, body)

    r = publish(long_, {"platform": "reels", "account_id": ig})  # 120 s > Reels' 90 s
    assert r.status == 422 and r.json["error"]["code"] == "clip_too_long" and r.json["error"]["param"] == "platform"
    # 120 s <= 180 s (private: the Google project is not verified by default)
    assert publish(long_, {"platform": "youtube_shorts", "account_id": yt, "privacy": "private"}).status == 202
    r = publish(short, {"platform": "youtube_shorts", "account_id": ig})
    assert r.status == 422 and r.json["error"]["code"] == "platform_mismatch"
    r = publish(short, {"platform": "reels", "account_id": foreign})
    assert r.status == 404 and r.json["error"]["param"] == "account_id"
    r = publish(short, {"platform": "reels", "account_id": "sa_nothere"})
    assert r.status == 404 and r.json["error"]["param"] == "account_id"
    r = publish(short, {"platform": "reels", "account_id": ig, "schedule_at": "2020-01-01T00:00:00Z"})
    assert r.status == 422 and r.json["error"]["param"] == "schedule_at"
    r = publish(short, {"platform": "vine", "account_id": ig})
    assert r.status == 400 and r.json["error"]["param"] == "platform"
    r = publish(short, {"platform": "reels", "account_id": ig, "privacy": "unlisted"})  # Instagram: public only
    assert r.status == 422 and r.json["error"]["code"] == "privacy_not_allowed"
    assert r.json["error"]["param"] == "platform"
    r = publish(short, {"platform": "reels", "account_id": ig, "privacy": "friends"})
    assert r.status == 400 and r.json["error"]["param"] == "privacy"
    r = publish(short, {"platform": "reels"})
    assert r.status == 400 and r.json["error"]["code"] == "missing_field" and r.json["error"]["param"] == "account_id"
    r = publish("clip_nothere", {"platform": "reels", "account_id": ig})
    assert r.status == 404
    assert len(env.queue_messages()) == 1


def test_publish_needs_a_rendition_for_the_platform(env):
    key = env.key("acme")
    seeded = seed_completed_project("acme", platforms=("youtube_shorts",))
    tt = seed_social_account("acme", "tiktok")
    r = env.call("POST", f"/v1/clips/{seeded['clip_ids'][0]}/publish", key, {"platform": "tiktok", "account_id": tt})
    assert r.status == 422 and r.json["error"]["code"] == "rendition_missing"
