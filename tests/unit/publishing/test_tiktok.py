"""TikTok client against the fake Content Posting API, and the chunk planner on large synthetic sizes."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from chalicelib.publishing.base import PublishRequest, TokenSet
from chalicelib.publishing.errors import LimitExceeded, PlatformError
from chalicelib.publishing.tiktok import MAX_CHUNKS, MiB, TikTokClient, caption_for, plan_chunks
from tests.fakes.base import TokenBook
from tests.fakes.tiktok import FakeTikTok, check_chunk_rules

from .conftest import Sleeps, sha256, with_urls

GB = 1000**3
MB = 1000**2


def request_for(path: Path, **kw: object) -> PublishRequest:
    base = dict(path=path, title="Pricing, explained", description="", tags=["pricing"], privacy="public",
                duration=4.0, width=360, height=640)
    base.update(kw)
    return PublishRequest(**base)  # type: ignore[arg-type]


def client_for(fake: FakeTikTok, settings, sleeps: Sleeps, **kw: object) -> TikTokClient:
    tokens = kw.pop("tokens", None) or TokenSet("at-1", "rt-1", time.time() + 3600, {"open_id": "open-1"})
    return TikTokClient(tokens, settings=with_urls(settings, fake.url), sleep=sleeps, **kw)  # type: ignore[arg-type]


# --- chunk planner ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [1, 1_000, 4 * MiB, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 9 * MiB, 10 * MiB, 10 * MiB + 1, 20 * MiB - 1,
     63 * MB, 64 * MB, 64 * MiB, 64 * MiB + 1, 100 * MB, 127 * MiB, 129 * MiB, 1 * GB, 4 * GB - 1, 4 * GB,
     4 * 1024**3, 10 * GB, 60 * GB],
)
@pytest.mark.parametrize("preferred", [1 * MiB, 5 * MiB, 10 * MiB, 40 * MiB, 64 * MiB, 200 * MiB])
def test_chunk_plan_follows_the_rules(size, preferred):
    plan = plan_chunks(size, preferred)
    # the fake's independent reading of the media transfer guide accepts it
    assert check_chunk_rules(size, plan.chunk_size, plan.total_chunk_count) is None
    assert plan.total_chunk_count == size // plan.chunk_size
    assert 1 <= plan.total_chunk_count <= MAX_CHUNKS
    ranges = list(plan.ranges())
    assert len(ranges) == plan.total_chunk_count
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))
    sizes = [last - first + 1 for first, last in ranges]
    assert all(s == plan.chunk_size for s in sizes[:-1])
    if size < 5 * MiB:
        assert sizes == [size]
    else:
        assert 5 * MiB <= plan.chunk_size and all(s <= 64 * MB for s in sizes[:-1])
        assert sizes[-1] <= 128 * MB
    if size > 64 * MiB:
        assert plan.total_chunk_count >= 2


def test_chunk_plan_examples():
    assert (plan_chunks(3 * MiB).chunk_size, plan_chunks(3 * MiB).total_chunk_count) == (3 * MiB, 1)
    p = plan_chunks(23 * MiB, 5 * MiB)
    assert (p.chunk_size, p.total_chunk_count, p.final_chunk_size) == (5 * MiB, 4, 8 * MiB)
    p = plan_chunks(70 * MB, 64 * MiB)  # over 64 MB: never one chunk
    assert p.total_chunk_count == 2 and p.chunk_size == 35 * MB
    p = plan_chunks(60 * GB, 5 * MiB)  # would be > 1000 chunks: chunk grows
    assert p.total_chunk_count <= 1000 and p.chunk_size <= 64 * MB
    with pytest.raises(LimitExceeded):
        plan_chunks(0)


def test_caption_respects_tiktok_length():
    req = request_for(Path("x"), title="🎬" * 3000, tags=[])
    assert len(caption_for(req).encode("utf-16-le")) // 2 <= 2200


# --- protocol ----------------------------------------------------------------------------------------


def test_multi_chunk_direct_post_delivers_exact_bytes(big_mp4, settings, sleeps):
    stages: list[str] = []
    with FakeTikTok() as fake:
        result = client_for(fake, settings, sleeps, on_status=stages.append).publish(request_for(big_mp4))
    post = next(iter(fake.posts.values()))
    size = big_mp4.stat().st_size
    assert post.count >= 3 and post.chunk_size == 5 * MiB
    assert sha256(bytes(post.data)) == sha256(big_mp4)
    assert fake.chunk_ranges[-1][1] == size - 1
    assert post.post_info["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert post.post_info["disable_duet"] is True  # creator_info says duets are off for this account
    assert post.post_info["title"] == "Pricing, explained\n\n#pricing"
    assert result.post_id == str(post.post_id)
    assert result.post_url == f"https://www.tiktok.com/@klipfan/video/{post.post_id}"
    assert stages == ["processing"]
    paths = [p for _, p in fake.log]
    assert paths.index("/v2/post/publish/creator_info/query/") < paths.index("/v2/post/publish/video/init/")


def test_small_file_goes_as_one_chunk(small_mp4, settings, sleeps):
    with FakeTikTok() as fake:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4, privacy="private"))
    post = next(iter(fake.posts.values()))
    assert post.count == 1 and post.chunk_size == small_mp4.stat().st_size
    assert fake.chunk_ranges == [(0, small_mp4.stat().st_size - 1)]
    assert sha256(bytes(post.data)) == sha256(small_mp4)


def test_dropped_chunk_is_sent_again(big_mp4, settings, sleeps):
    with FakeTikTok(drop_chunk=2) as fake:
        client_for(fake, settings, sleeps).publish(request_for(big_mp4))
    post = next(iter(fake.posts.values()))
    assert fake.puts == post.count + 1
    assert sha256(bytes(post.data)) == sha256(big_mp4)


def test_token_expiring_mid_flow_is_refreshed_and_rotated_refresh_token_kept(small_mp4, settings, sleeps):
    saved: list[TokenSet] = []
    book = TokenBook(expire_after=2, rotate_refresh=True)  # creator_info + init, then expired
    with FakeTikTok(tokens=book) as fake:
        client = client_for(fake, settings, sleeps, on_tokens=saved.append)
        client.publish(request_for(small_mp4))
    assert book.refreshes == 1
    assert [(t.access_token, t.refresh_token) for t in saved] == [("at-2", "rt-2")]
    assert saved[0].extra["open_id"] == "open-1"
    assert sha256(bytes(next(iter(fake.posts.values())).data)) == sha256(small_mp4)


def test_rate_limited_init_backs_off_with_retry_after(small_mp4, settings, sleeps):
    with FakeTikTok(rate_limit_init=2, retry_after="2") as fake:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert sleeps[:2] == [2.0, 2.0]
    assert len(fake.posts) == 1


def test_rate_limit_without_retry_after_uses_exponential_backoff(small_mp4, settings, sleeps):
    with FakeTikTok(rate_limit_init=3, retry_after=None) as fake:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    base = settings.publish_backoff_base_seconds
    waits = sleeps[:3]
    assert all(base * 2**i / 2 <= w <= base * 2**i for i, w in enumerate(waits))
    assert len(fake.posts) == 1


def test_privacy_outside_creator_options_is_refused_before_init(small_mp4, settings, sleeps):
    with FakeTikTok(privacy_options=("SELF_ONLY",)) as fake, pytest.raises(LimitExceeded) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4, privacy="public"))
    assert info.value.code == "privacy_not_allowed"
    assert ("POST", "/v2/post/publish/video/init/") not in fake.log


def test_clip_longer_than_creator_max_is_refused_before_init(small_mp4, settings, sleeps):
    with FakeTikTok(max_duration=3) as fake, pytest.raises(LimitExceeded) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4, duration=5.0))
    assert info.value.code == "clip_too_long"
    assert ("POST", "/v2/post/publish/video/init/") not in fake.log


def test_platform_processing_failure_carries_fail_reason(small_mp4, settings, sleeps):
    with FakeTikTok(fail_reason="frame_rate_check_failed") as fake, pytest.raises(PlatformError) as info:
        client_for(fake, settings, sleeps).publish(request_for(small_mp4))
    assert info.value.code == "platform_processing_failed"
    assert "frame_rate_check_failed" in info.value.message
    assert len(next(iter(fake.posts.values())).data) == small_mp4.stat().st_size


def test_private_post_has_no_public_id_and_keeps_publish_id(small_mp4, settings, sleeps):
    with FakeTikTok() as fake:
        result = client_for(fake, settings, sleeps).publish(request_for(small_mp4, privacy="private"))
    assert result.post_id.startswith("v_pub_file") and result.post_url is None
