"""YouTube client against the fake resumable-upload server: bytes, chunking, resume, refresh, throttling."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chalicelib.publishing.base import PublishRequest, TokenSet
from chalicelib.publishing.errors import AuthFailed, PlatformError, QuotaExceeded
from chalicelib.publishing.youtube import GRANULE, YouTubeClient
from tests.fakes.base import TokenBook
from tests.fakes.youtube import FakeYouTube

from .conftest import Sleeps, sha256, with_urls


def request_for(path: Path, **kw: object) -> PublishRequest:
    base = dict(path=path, title="How <pricing> works", description="A clip", tags=["pricing", "#saas"],
                privacy="unlisted", duration=5.0, width=360, height=640)
    base.update(kw)
    return PublishRequest(**base)  # type: ignore[arg-type]


def client_for(fake: FakeYouTube, settings, sleeps: Sleeps, **kw: object) -> YouTubeClient:
    tokens = kw.pop("tokens", None) or TokenSet("at-1", "rt-1", time.time() + 3600)
    return YouTubeClient(tokens, settings=with_urls(settings, fake.url), sleep=sleeps, **kw)  # type: ignore[arg-type]


def test_resumable_upload_delivers_exact_bytes_in_256k_chunks(small_mp4, settings, sleeps):
    stages: list[str] = []
    with FakeYouTube() as fake:
        result = client_for(fake, settings, sleeps, on_status=stages.append).publish(request_for(small_mp4))
    assert small_mp4.stat().st_size > 4 * GRANULE  # really chunked
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)
    assert all(size % GRANULE == 0 for size in fake.chunk_sizes[:-1])
    assert len(fake.chunk_sizes) == -(-small_mp4.stat().st_size // GRANULE)
    assert result.post_url == f"https://www.youtube.com/shorts/{result.post_id}"
    assert stages == ["processing"]
    resource = fake.sessions["up1"].resource
    assert resource["snippet"]["title"] == "How pricing works"  # angle brackets removed
    assert resource["snippet"]["tags"] == ["pricing", "saas"]
    assert "#Shorts" in resource["snippet"]["description"]
    assert resource["status"]["privacyStatus"] == "unlisted"
    assert fake.videos[result.post_id]["state"] == "processed"


def test_dropped_chunk_is_resumed_from_the_308_range(small_mp4, settings, sleeps):
    with FakeYouTube(drop_chunk=3) as fake:
        result = client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert fake.status_queries == 1  # asked `bytes */TOTAL` once
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)
    # the server kept a non-aligned part of the dropped chunk; the client resumed right after it
    assert any(start % GRANULE for start in fake.chunk_starts)
    assert len(fake.received(result.post_id)) == small_mp4.stat().st_size


def test_token_expiring_mid_upload_is_refreshed_and_handed_back(small_mp4, settings, sleeps):
    saved: list[TokenSet] = []
    book = TokenBook(expire_after=3)  # session POST + 2 chunks, then the token dies
    with FakeYouTube(tokens=book) as fake:
        client = client_for(fake, settings, sleeps, on_tokens=saved.append)
        result = client.publish(request_for(small_mp4))
    assert book.refreshes == 1 and client.refresh_count == 1
    assert [t.access_token for t in saved] == ["at-2"]
    assert saved[0].refresh_token == "rt-1" and saved[0].expires_at > time.time() + 3000
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)


def test_expired_token_is_refreshed_before_starting(small_mp4, settings, sleeps):
    with FakeYouTube() as fake:
        client = client_for(fake, settings, sleeps, tokens=TokenSet("stale", "rt-1", time.time() - 10))
        client.publish(request_for(small_mp4))
    assert client.refresh_count == 1
    assert fake.log[0] == ("POST", "/token")


def test_rate_limit_waits_retry_after_then_succeeds(small_mp4, settings, sleeps):
    with FakeYouTube(throttle_session=2, retry_after="3") as fake:
        result = client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert sleeps[:2] == [3.0, 3.0]
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)


def test_quota_never_clearing_fails_as_retryable_quota_error(small_mp4, settings, sleeps):
    with FakeYouTube(throttle_session=100, retry_after="1") as fake, pytest.raises(QuotaExceeded) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert info.value.code == "quota_exceeded" and info.value.retryable
    assert len(sleeps) == settings.publish_max_retries
    assert fake.data_puts == 0


def test_processing_failure_is_reported(small_mp4, settings, sleeps):
    with FakeYouTube(fail_processing=True) as fake, pytest.raises(PlatformError) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert info.value.code == "platform_processing_failed"
    assert "conversion" in info.value.message


def test_refused_refresh_token_asks_to_reconnect(small_mp4, settings, sleeps):
    with FakeYouTube(tokens=TokenBook(refresh_token="other")) as fake:
        client = client_for(fake, settings, sleeps, tokens=TokenSet("nope", "rt-1", time.time() + 3600))
        with pytest.raises(AuthFailed) as info:
            client.publish(request_for(small_mp4))
    assert "reconnect" in info.value.message
    assert "rt-1" not in info.value.message and "nope" not in info.value.message
