"""The platforms' documented rules, per discrepancy of issue 15, against fakes that enforce them.

Each test names the discrepancy it covers; each failed against the clients before the fix.
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from chalicelib.publishing.base import PublishRequest, TokenSet
from chalicelib.publishing.errors import LimitExceeded, PlatformError, QuotaExceeded, Restricted
from chalicelib.publishing.instagram import InstagramClient
from chalicelib.publishing.limits import hashtags_in, youtube_tags_length
from chalicelib.publishing.tiktok import TikTokClient
from chalicelib.publishing.youtube import YouTubeClient
from chalicelib.settings import load_settings
from tests.fakes.instagram import FakeInstagram
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube import SCOPE, FakeYouTube, tags_length

from .conftest import sha256, with_urls

IG_USER = "17841400000000001"
HASHTAGS = [f"clipstarhashtag{i:02d}" for i in range(40)]  # 17 characters each


def yt(fake: FakeYouTube, settings, sleeps) -> YouTubeClient:
    return YouTubeClient(TokenSet("at-1", "rt-1", time.time() + 3600), settings=with_urls(settings, fake.url),
                         sleep=sleeps)


def tt(fake: FakeTikTok, settings, sleeps) -> TikTokClient:
    return TikTokClient(TokenSet("at-1", "rt-1", time.time() + 3600), settings=with_urls(settings, fake.url),
                        sleep=sleeps)


def ig(fake: FakeInstagram, settings, sleeps) -> InstagramClient:
    tokens = TokenSet("IGAA-1", None, time.time() + 50 * 86400, {"ig_user_id": IG_USER})
    return InstagramClient(tokens, settings=with_urls(settings, fake.url), sleep=sleeps)


def req(path, **kw) -> PublishRequest:
    base = dict(path=path, title="Pricing, explained", description="A clip", tags=["pricing"], privacy="public",
                duration=5.0, width=360, height=640)
    base.update(kw)
    return PublishRequest(**base)


# --- 1, 2: YouTube description bytes / angle brackets, tag totals --------------------------------------


def test_1_youtube_description_is_cut_by_bytes_and_loses_angle_brackets(small_mp4, settings, sleeps):
    long_text = "Ünïcödé <b>pricing</b> " + "é" * 3000  # 3000+ characters, about 6000 bytes
    with FakeYouTube() as fake:
        result = yt(fake, settings, sleeps).publish(req(small_mp4, description=long_text))
    posted = fake.sessions["up1"].resource["snippet"]["description"]
    assert len(posted.encode()) <= 5000 and "<" not in posted and ">" not in posted
    assert posted.startswith("Ünïcödé bpricing/b") and posted.endswith("#Shorts")
    assert result.post_id in fake.videos


def test_2_youtube_tags_fit_500_characters_with_commas_and_quotes(small_mp4, settings, sleeps):
    tags = ["#" + t for t in HASHTAGS[:30]] + ["pricing strategy"]
    assert youtube_tags_length(tags) > 500 and len(tags) > 30
    with FakeYouTube() as fake:
        yt(fake, settings, sleeps).publish(req(small_mp4, tags=tags))
    posted = fake.sessions["up1"].resource["snippet"]["tags"]
    assert tags_length(posted) <= 500  # the fake's own count
    assert posted == [t.lstrip("#") for t in tags[: len(posted)]] and len(posted) == 27


# --- 3: scopes per call ---------------------------------------------------------------------------------


def test_3_upload_only_grant_still_reports_the_live_video(small_mp4, settings, sleeps):
    with FakeYouTube(scopes=(f"{SCOPE}youtube.upload",)) as fake:
        result = yt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    assert result.post_id in fake.videos and len(fake.sessions) == 1
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)


def test_3_grant_without_upload_scope_is_refused(small_mp4, settings, sleeps):
    with FakeYouTube(scopes=(f"{SCOPE}youtube.readonly",)) as fake, pytest.raises(PlatformError) as err:
        yt(fake, settings, sleeps).publish(req(small_mp4))
    assert err.value.code == "youtube_insufficientPermissions" and fake.sessions == {}


# --- 5: unverified / unaudited apps ------------------------------------------------------------------------


def test_5_unverified_youtube_upload_reports_the_privacy_applied(small_mp4, settings, sleeps):
    with FakeYouTube(verified=False) as fake:
        result = yt(fake, settings, sleeps).publish(req(small_mp4, privacy="public"))
    assert result.privacy == "private"


def test_5_unaudited_tiktok_app_gets_a_final_privacy_error(small_mp4, settings, sleeps):
    with FakeTikTok(audited=False) as fake, pytest.raises(LimitExceeded) as err:
        tt(fake, settings, sleeps).publish(req(small_mp4))
    assert (err.value.code, err.value.param, err.value.retryable) == ("tiktok_unaudited_client", "privacy", False)
    assert fake.posts == {} and sleeps == []


def test_5_unaudited_tiktok_app_posts_self_only(small_mp4, settings, sleeps):
    with FakeTikTok(audited=False) as fake:
        result = tt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    [post] = fake.posts.values()
    assert post.post_info["privacy_level"] == "SELF_ONLY" and result.post_url is None


# --- 6, 7: Instagram spam restriction, daily limit, hashtags -------------------------------------------------


def test_6_instagram_spam_restriction_is_final_and_not_retried(small_mp4, file_server, settings, sleeps):
    with FakeInstagram(spam_restricted=True) as fake, pytest.raises(Restricted) as err:
        ig(fake, settings, sleeps).publish(req(small_mp4, video_url=f"{file_server}/{small_mp4.name}"))
    assert err.value.code == "spam_restricted" and not err.value.retryable
    assert fake.spam_refusals == 1 and sleeps == []


def test_6_instagram_daily_publishing_limit_is_final(small_mp4, file_server, settings, sleeps):
    with FakeInstagram(daily_limit_reached=True) as fake, pytest.raises(QuotaExceeded) as err:
        ig(fake, settings, sleeps).publish(req(small_mp4, video_url=f"{file_server}/{small_mp4.name}"))
    assert err.value.code == "daily_quota_exceeded" and not err.value.retryable


def test_7_instagram_caption_keeps_at_most_30_hashtags(small_mp4, file_server, settings, sleeps):
    with FakeInstagram() as fake:
        result = ig(fake, settings, sleeps).publish(
            req(small_mp4, description="Watch #pricing and #saas", tags=HASHTAGS,
                video_url=f"{file_server}/{small_mp4.name}"))
    caption = fake.media[result.post_id].fields["caption"]
    assert len(hashtags_in(caption)) == 30 and "#clipstarhashtag27" in caption and "#clipstarhashtag28" not in caption


# --- 8: YouTube daily quota -----------------------------------------------------------------------------------


def test_8_youtube_daily_quota_is_final_and_not_retried(small_mp4, settings, sleeps):
    with FakeYouTube(quota_units=1000) as fake, pytest.raises(QuotaExceeded) as err:
        yt(fake, settings, sleeps).publish(req(small_mp4))
    assert err.value.code == "daily_quota_exceeded" and not err.value.retryable
    assert fake.quota_refusals == 1 and sleeps == []


# --- 9: TikTok moderation delay --------------------------------------------------------------------------------


def test_9_public_tiktok_post_waits_for_moderation_before_its_post_id(small_mp4, settings, sleeps):
    with FakeTikTok(moderation_polls=3) as fake:
        result = tt(fake, settings, sleeps).publish(req(small_mp4))
    [post] = fake.posts.values()
    assert result.post_id == str(post.post_id) != post.publish_id
    assert result.post_url == f"https://www.tiktok.com/@klipfan/video/{post.post_id}"
    assert post.moderation == 4


# --- 10, 11: TikTok stale range (416), brand_content_toggle --------------------------------------------------


def test_10_tiktok_chunk_stored_but_unanswered_continues_from_the_reported_range(big_mp4, settings, sleeps):
    with FakeTikTok(lose_answer=2) as fake:
        result = tt(fake, settings, sleeps).publish(req(big_mp4, privacy="private"))
    [post] = fake.posts.values()
    assert result.post_id == post.publish_id and post.chunks == post.count >= 3
    assert sha256(bytes(post.data)) == sha256(big_mp4)
    assert len(fake.chunk_ranges) == post.count  # every chunk stored exactly once


def test_10_tiktok_last_chunk_unanswered_completes(small_mp4, settings, sleeps):
    with FakeTikTok(lose_answer=1) as fake:
        tt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    [post] = fake.posts.values()
    assert sha256(bytes(post.data)) == sha256(small_mp4) and post.status == "PUBLISH_COMPLETE"


def test_11_tiktok_init_sends_brand_content_toggle(small_mp4, settings, sleeps):
    with FakeTikTok() as fake:
        tt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    [post] = fake.posts.values()
    assert post.post_info["brand_content_toggle"] is False and post.post_info["brand_organic_toggle"] is False


# --- 13: TikTok internal is retryable; PUBLISHED container; Instagram poll interval ------------------------------


def test_13_tiktok_internal_failure_is_retryable_and_restarts(small_mp4, settings, sleeps):
    with FakeTikTok(fail_reason="internal") as fake, pytest.raises(PlatformError) as err:
        tt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    assert err.value.retryable and err.value.restart and err.value.code == "tiktok_internal"


def test_13_other_tiktok_failures_stay_final(small_mp4, settings, sleeps):
    with FakeTikTok(fail_reason="spam_risk_too_many_posts") as fake, pytest.raises(PlatformError) as err:
        tt(fake, settings, sleeps).publish(req(small_mp4, privacy="private"))
    assert not err.value.retryable and err.value.code == "platform_processing_failed" and fake.posts


def test_13_published_instagram_container_stops_polling(small_mp4, file_server, settings, sleeps):
    quick = dataclasses.replace(settings, publish_poll_timeout_seconds=1.0)
    with FakeInstagram() as fake:
        client = ig(fake, quick, sleeps)
        result = client.publish(req(small_mp4, video_url=f"{file_server}/{small_mp4.name}"))
        [cid] = fake.containers
        before = len(fake.log)
        assert client.wait_container(cid) == "PUBLISHED"
    assert len(fake.log) == before + 1 and result.post_id in fake.media


def test_13_instagram_polls_once_a_minute(small_mp4, file_server, settings, sleeps):
    assert load_settings(environ={}).instagram_poll_interval_seconds >= 60
    minute = dataclasses.replace(settings, instagram_poll_interval_seconds=60.0)
    with FakeInstagram(processing_polls=2) as fake:
        ig(fake, minute, sleeps).publish(req(small_mp4, video_url=f"{file_server}/{small_mp4.name}"))
    assert sleeps and set(sleeps) == {60.0}


# --- 12: scheduled refresh rules per platform ---------------------------------------------------------------------


def test_12_tiktok_refresh_token_is_rotated_a_month_before_it_expires(settings, sleeps):
    now = time.time()
    with FakeTikTok() as fake:
        client = tt(fake, settings, sleeps)
        assert not client.scheduled_refresh_due(now, connected_at=now - 300 * 86400)  # unknown: from connecting
        assert client.scheduled_refresh_due(now, connected_at=now - 340 * 86400)
        client.refresh()
        assert client.tokens.extra["refresh_expires_at"] > now + 364 * 86400
        assert not client.scheduled_refresh_due(now, connected_at=now - 340 * 86400)
    unconfigured = dataclasses.replace(settings, tiktok_client_key="")
    assert not TikTokClient(TokenSet("at", "rt"), settings=unconfigured).scheduled_refresh_due(now, now - 400 * 86400)


def test_12_instagram_refresh_is_due_in_the_last_week_or_when_expiry_is_unknown(settings):
    now = time.time()

    def due(expires_at, days_old):
        client = InstagramClient(TokenSet("IGAA-1", None, expires_at, {}), settings=settings)
        return client.scheduled_refresh_due(now, now - days_old * 86400)

    assert due(now + 6 * 86400, 54) and not due(now + 8 * 86400, 52)
    assert due(None, 2) and not due(None, 0.5)  # a long-lived token refreshes once it is a day old
    assert not YouTubeClient(TokenSet("at", "rt", now + 60), settings=settings).scheduled_refresh_due(now, now)
