"""Instagram client against the fake Graph API: container, status polling, media_publish, permalink."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chalicelib.publishing.base import PublishRequest, TokenSet
from chalicelib.publishing.errors import AuthFailed, PlatformError, UploadFailed
from chalicelib.publishing.instagram import InstagramClient
from tests.fakes.base import TokenBook
from tests.fakes.instagram import FakeInstagram

from .conftest import Sleeps, sha256, with_urls

IG_USER = "17841400000000001"


def request_for(path: Path, url: str, **kw: object) -> PublishRequest:
    base = dict(path=path, title="Pricing, explained", description="Full talk on our site", tags=["saas"],
                duration=5.0, width=360, height=640, video_url=f"{url}/{path.name}")
    base.update(kw)
    return PublishRequest(**base)  # type: ignore[arg-type]


def client_for(fake: FakeInstagram, settings, sleeps: Sleeps, **kw: object) -> InstagramClient:
    tokens = kw.pop("tokens", None) or TokenSet("IGAA-1", None, time.time() + 50 * 86400, {"ig_user_id": IG_USER})
    return InstagramClient(tokens, settings=with_urls(settings, fake.url), sleep=sleeps, **kw)  # type: ignore[arg-type]


def test_reel_is_pulled_processed_and_published(small_mp4, file_server, settings, sleeps):
    stages: list[str] = []
    with FakeInstagram() as fake:
        client = client_for(fake, settings, sleeps, on_status=stages.append)
        result = client.publish(request_for(small_mp4, file_server))
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)
    box = fake.media[result.post_id]
    assert box.fields["media_type"] == "REELS" and box.fields["share_to_feed"] == "true"
    assert box.fields["caption"] == "Pricing, explained\n\nFull talk on our site\n\n#saas"
    assert box.status_code == "PUBLISHED"
    assert result.post_url == f"https://www.instagram.com/reel/FAKE{result.post_id[-6:]}/"
    assert stages == ["processing"]
    assert client.refresh_count == 0  # token has 50 days left
    publish_calls = [p for m, p in fake.log if p.endswith("/media_publish")]
    assert len(publish_calls) == 1


def test_rate_limited_container_creation_backs_off(small_mp4, file_server, settings, sleeps):
    with FakeInstagram(rate_limit_create=2) as fake:
        result = client_for(fake, settings, sleeps).publish(request_for(small_mp4, file_server))
    assert fake.limited == 2 and len(fake.containers) == 1
    assert len([s for s in sleeps if s != settings.publish_poll_interval_seconds]) >= 2
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)


@pytest.mark.parametrize("knob", ["fail_processing", "expire_containers"])
def test_container_error_or_expiry_fails_without_publishing(small_mp4, file_server, settings, sleeps, knob):
    with FakeInstagram(**{knob: True}) as fake, pytest.raises(PlatformError) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4, file_server))
    assert info.value.code == "platform_processing_failed"
    assert ("ERROR" if knob == "fail_processing" else "EXPIRED") in info.value.message
    assert not fake.media


def test_unreachable_video_url_ends_in_error(small_mp4, file_server, settings, sleeps):
    with FakeInstagram() as fake, pytest.raises(PlatformError):
        client_for(fake, settings, sleeps).publish(
            request_for(small_mp4, file_server, video_url=f"{file_server}/missing.mp4")
        )


def test_token_near_expiry_is_refreshed_first(small_mp4, file_server, settings, sleeps):
    saved: list[TokenSet] = []
    tokens = TokenSet("IGAA-1", None, time.time() + 2 * 86400, {"ig_user_id": IG_USER})
    with FakeInstagram() as fake:
        client = client_for(fake, settings, sleeps, tokens=tokens, on_tokens=saved.append)
        result = client.publish(request_for(small_mp4, file_server))
    assert fake.refreshed_from == ["IGAA-1"]
    assert saved[0].access_token == "IGAA-2" and saved[0].expires_at > time.time() + 59 * 86400
    assert saved[0].extra["ig_user_id"] == IG_USER
    assert sha256(fake.received(result.post_id)) == sha256(small_mp4)


def test_expired_token_cannot_be_refreshed_and_asks_to_reconnect(small_mp4, file_server, settings, sleeps):
    book = TokenBook(access_token="IGAA-1", refresh_token="unused", expire_after=0)
    with FakeInstagram(tokens=book) as fake, pytest.raises(AuthFailed) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4, file_server))
    assert "reconnect" in info.value.message and "IGAA" not in info.value.message
    assert not fake.containers


def test_unreachable_platform_fails_without_leaking_the_token(small_mp4, file_server, settings, sleeps):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = InstagramClient(TokenSet("IGAA-SECRET", None, time.time() + 50 * 86400, {"ig_user_id": IG_USER}),
                             settings=with_urls(settings, f"http://127.0.0.1:{port}"), sleep=sleeps)
    with pytest.raises(UploadFailed) as info:
        client.publish(request_for(small_mp4, file_server))
    assert info.value.retryable and "IGAA-SECRET" not in str(info.value)
    assert len(sleeps) == settings.publish_max_retries
