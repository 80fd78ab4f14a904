"""POST /v1/clips/:id/publish refuses, at request time, what the platform would refuse later: 422 naming the
field the caller controls (description, tags, privacy against the app's verification/audit status)."""

from __future__ import annotations

import pytest

from chalicelib.data.models import Publication
from chalicelib.settings import get_settings

from .apienv import seed_completed_project, seed_social_account

TAGS_30 = [f"clipstarhashtag{i:02d}" for i in range(30)]  # 30 x 17 characters + 29 commas = 539


@pytest.fixture
def publish(env):
    key = env.key("acme")
    clip_id = seed_completed_project("acme")["clip_ids"][0]
    accounts = {p: seed_social_account("acme", p) for p in ("youtube", "tiktok", "instagram")}
    target_account = {"youtube_shorts": "youtube", "tiktok": "tiktok", "reels": "instagram"}

    def call(platform: str, **body):
        return env.call("POST", f"/v1/clips/{clip_id}/publish", key,
                        {"platform": platform, "account_id": accounts[target_account[platform]], **body})

    return call


def error_of(r) -> tuple[int, str, str]:
    return r.status, r.json["error"]["code"], r.json["error"]["param"]


def test_youtube_description_bytes_and_angle_brackets(publish):
    assert error_of(publish("youtube_shorts", privacy="private", description="see <this>")) == (
        422, "invalid_description", "description")
    wide = "\U0001f600" * 1250  # 1250 characters (within the 2200 allowed), 5000 bytes; with "#Shorts" over
    assert error_of(publish("youtube_shorts", privacy="private", description=wide)) == (
        422, "description_too_long", "description")
    r = publish("youtube_shorts", privacy="private", description="\U0001f600" * 1247)
    assert r.status == 202, r.json


def test_youtube_tags_total_counts_commas_and_quotes(publish):
    assert error_of(publish("youtube_shorts", privacy="private", tags=TAGS_30)) == (422, "tags_too_long", "tags")
    r = publish("youtube_shorts", privacy="private", tags=[*TAGS_30[:27], "pricing talk"])
    assert r.status == 202 and r.json["tags"][-1] == "pricing talk"
    assert Publication.get(r.json["id"]).tags[-1] == "pricing talk"
    assert error_of(publish("youtube_shorts", privacy="private", tags=["a,b"]))[::2] == (400, "tags.0")


def test_instagram_caption_hashtags_at_most_30(publish):
    assert error_of(publish("reels", tags=[*TAGS_30, "one_more"])) == (422, "too_many_hashtags", "tags")
    assert error_of(publish("reels", tags=TAGS_30[:29], description="#a #b")) == (422, "too_many_hashtags", "tags")
    many = " ".join(f"#t{i}" for i in range(31))
    assert error_of(publish("reels", description=many)) == (422, "too_many_hashtags", "description")
    assert publish("reels", tags=TAGS_30).status == 202


def test_privacy_follows_the_app_status(publish, monkeypatch):
    r = publish("youtube_shorts")  # default privacy public, project unverified by default
    assert error_of(r) == (422, "privacy_not_allowed", "privacy")
    assert "KLIPSTAR_YOUTUBE_APP_VERIFIED" in r.json["error"]["message"]
    r = publish("tiktok", privacy="public")
    assert error_of(r) == (422, "privacy_not_allowed", "privacy") and "SELF_ONLY" in r.json["error"]["message"]
    assert publish("tiktok", privacy="private").status == 202
    assert publish("youtube_shorts", privacy="private").status == 202
    monkeypatch.setenv("KLIPSTAR_YOUTUBE_APP_VERIFIED", "true")
    monkeypatch.setenv("KLIPSTAR_TIKTOK_APP_AUDITED", "true")
    get_settings.cache_clear()
    try:
        assert publish("youtube_shorts").status == 202
        assert publish("tiktok", privacy="public").status == 202
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
