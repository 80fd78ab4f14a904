"""The publish worker end to end under moto: rows, storage, fakes, status transitions, no double posts."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import boto3

from chalicelib.data import storage
from chalicelib.data.models import (
    Clip,
    Project,
    Publication,
    SocialAccount,
    WebhookDelivery,
    utcnow,
)
from chalicelib.publishing import worker
from chalicelib.publishing.base import TokenSet
from chalicelib.publishing.tokens import decrypt_tokens, encrypt_tokens
from chalicelib.settings import Settings
from tests.fakes.base import Request, TokenBook
from tests.fakes.instagram import FakeInstagram
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube import FakeYouTube

from .conftest import sha256, with_urls

TENANT = "acct_1#test"
IG_USER = "17841400000000001"
HOOK = "https://hooks.example.com/klipstar"
RENDITION = {"youtube_shorts": "youtube", "tiktok": "tiktok", "reels": "instagram"}


def seed(
    settings: Settings,
    video: Path,
    *,
    target: str = "youtube_shorts",
    tokens: TokenSet | None = None,
    duration: float = 5.0,
    schedule_at=None,
    privacy: str = "public",
    pub_id: str = "pub_1",
) -> Publication:
    key = storage.clip_video_key(TENANT, "proj_1", "clip_1", 360, 640)
    storage.put_file(key, video, "video/mp4")
    Project(project_id="proj_1", tenant=TENANT, account_id="acct_1", webhook_url=HOOK).save()
    Clip(clip_id="clip_1", project_id="proj_1", tenant=TENANT, rank=0, title="Pricing, explained",
         description="From the talk", hashtags=["pricing"], virality_score=91, start=10.0, end=10.0 + duration,
         duration_seconds=duration, renditions={target: {"width": 360, "height": 640, "key": key}}).save()
    access = "IGAA-1" if target == "reels" else "at-1"  # what the fakes' default TokenBook issued
    tokens = tokens or TokenSet(access, "rt-1", time.time() + 3600, {"ig_user_id": IG_USER})
    SocialAccount(social_account_id="sa_1", tenant=TENANT, platform=RENDITION[target],
                  encrypted_tokens=encrypt_tokens(tokens.to_dict(), "sa_1", settings)).save()
    pub = Publication(publication_id=pub_id, clip_id="clip_1", project_id="proj_1", tenant=TENANT,
                      platform=target, account_id="sa_1", privacy=privacy, schedule_at=schedule_at)
    pub.save()
    return pub


def watch_status(fake) -> list[tuple[str, str]]:
    """Record the publication's status as each platform request arrives."""
    seen: list[tuple[str, str]] = []

    def observe(req: Request) -> None:
        seen.append((f"{req.method} {req.path}", Publication.get("pub_1").status))

    fake.on_request = observe
    return seen


def test_youtube_publication_walks_the_statuses_and_posts_the_clip_bytes(aws, small_mp4, settings, caplog):
    caplog.set_level(logging.DEBUG)
    book = TokenBook(access_token="ya29.TOPSECRET", refresh_token="1//REFRESHSECRET", expire_after=2)
    with FakeYouTube(tokens=book) as fake:
        seed(settings, small_mp4, tokens=TokenSet("ya29.TOPSECRET", "1//REFRESHSECRET", time.time() + 3600))
        seen = watch_status(fake)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "published" and pub.error is None
    assert pub.post_url == f"https://www.youtube.com/shorts/{pub.post_id}"
    assert sha256(fake.received(pub.post_id)) == sha256(small_mp4)
    statuses = dict.fromkeys(s for _, s in seen)
    assert list(statuses) == ["uploading", "processing"]
    assert all(s == "uploading" for p, s in seen if p.startswith("PUT"))
    assert all(s == "processing" for p, s in seen if p == "GET /youtube/v3/videos")
    # the token expired mid-upload: refreshed, and the new one stored encrypted
    stored = decrypt_tokens(SocialAccount.get("sa_1").encrypted_tokens, "sa_1", settings)
    assert stored["access_token"] == "at-2" and stored["refresh_token"] == "1//REFRESHSECRET"
    assert "TOPSECRET" not in caplog.text and "REFRESHSECRET" not in caplog.text
    assert "at-2" not in SocialAccount.get("sa_1").encrypted_tokens
    [event] = [d for d in WebhookDelivery.scan() if d.event_type == "clip.published"]
    assert event.url == HOOK and event.tenant == TENANT
    assert event.payload["post_id"] == pub.post_id and event.payload["status"] == "published"
    assert event.payload["publication_id"] == "pub_1" and event.payload["event"] == "clip.published"
    assert "TOPSECRET" not in json.dumps(event.payload) and "at-2" not in json.dumps(event.payload)


def test_running_twice_posts_once(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        s = with_urls(settings, fake.url)
        first = worker.process_publication("pub_1", settings=s)
        calls = len(fake.log)
        second = worker.process_publication("pub_1", settings=s)
    assert first.status == second.status == "published" and first.post_id == second.post_id
    assert len(fake.log) == calls and len(fake.sessions) == 1


def test_concurrent_runs_post_once(aws, small_mp4, settings, monkeypatch):
    claim = worker._claim
    gate = threading.Barrier(3, timeout=30)  # all three runs have read `queued` before any claims

    def gated_claim(pub: Publication) -> bool:
        gate.wait()
        return claim(pub)

    monkeypatch.setattr(worker, "_claim", gated_claim)
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        s = with_urls(settings, fake.url)
        results: list[object] = []

        def run() -> None:
            results.append(worker.process_publication("pub_1", settings=s))

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(fake.sessions) == 1 and len(fake.videos) == 1
    assert Publication.get("pub_1").status == "published"


def test_tiktok_publication(aws, small_mp4, settings):
    with FakeTikTok() as fake:
        seed(settings, small_mp4, target="tiktok", privacy="private")
        seen = watch_status(fake)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    post = next(iter(fake.posts.values()))
    assert pub.status == "published" and pub.post_id == post.publish_id
    assert sha256(bytes(post.data)) == sha256(small_mp4)
    assert post.post_info["privacy_level"] == "SELF_ONLY"
    assert post.post_info["title"].startswith("Pricing, explained\n\nFrom the talk")
    assert [s for p, s in seen if p.endswith("/status/fetch/")][-1] == "processing"


def test_instagram_pulls_the_presigned_rendition(aws, small_mp4, settings):
    with FakeInstagram() as fake:
        seed(settings, small_mp4, target="reels")
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "published", pub.error
    box = fake.media[pub.post_id]
    assert "X-Amz-Signature=" in box.fields["video_url"]
    assert sha256(box.data) == sha256(small_mp4)
    assert pub.post_url.startswith("https://www.instagram.com/reel/")


def test_platform_failure_is_recorded(aws, small_mp4, settings):
    with FakeYouTube(fail_processing=True) as fake:
        seed(settings, small_mp4)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "failed" and pub.post_id is None
    assert pub.error.code == "platform_processing_failed"
    [event] = list(WebhookDelivery.scan())
    assert event.event_type == "clip.publish_failed"
    assert event.payload["error"]["code"] == "platform_processing_failed"


def test_limits_are_checked_before_any_upload(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4, duration=181.0)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "failed" and pub.error.code == "clip_too_long"
    assert fake.log == []


def test_account_of_another_platform_is_refused(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        SocialAccount.get("sa_1").update(actions=[SocialAccount.platform.set("tiktok")])
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.error.code == "account_mismatch" and fake.log == []


def test_scheduled_publication_waits_for_the_local_scheduler(aws, small_mp4, settings):
    later = utcnow() + timedelta(hours=1)
    with FakeYouTube() as fake:
        seed(settings, small_mp4, schedule_at=later)
        s = with_urls(settings, fake.url)
        assert worker.dispatch_publication(Publication.get("pub_1"), settings=s) == "local"
        assert worker.process_publication("pub_1", settings=s).status == "queued"
        assert worker.run_due_publications(settings=s) == []
        assert fake.log == []
        assert worker.run_due_publications(now=later + timedelta(seconds=1), settings=s) == ["pub_1"]
    assert Publication.get("pub_1").status == "published"


def test_dispatch_uses_eventbridge_scheduler_or_the_queue(aws, small_mp4, settings):
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="publish")["QueueUrl"]
    s = dataclasses.replace(settings, env="prod", publish_queue_url=queue_url,
                            publish_queue_arn="arn:aws:sqs:us-east-1:123456789012:publish",
                            scheduler_role_arn="arn:aws:iam::123456789012:role/scheduler")
    at = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    pub = seed(settings, small_mp4, schedule_at=at)
    assert worker.dispatch_publication(pub, settings=s) == "scheduled"
    sched = boto3.client("scheduler", region_name="us-east-1").get_schedule(Name=worker.schedule_name("pub_1"))
    assert sched["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
    assert sched["Target"]["Arn"] == s.publish_queue_arn
    assert json.loads(sched["Target"]["Input"]) == {"publication_id": "pub_1"}

    now_pub = seed(settings, small_mp4, pub_id="pub_2")
    assert worker.dispatch_publication(now_pub, settings=s) == "queued"
    msgs = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    assert [json.loads(m["Body"]) for m in msgs] == [{"publication_id": "pub_2"}]


def test_account_stored_under_the_publish_platform_name_is_accepted(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        SocialAccount.get("sa_1").update(actions=[SocialAccount.platform.set("youtube_shorts")])
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "published"


def test_sqs_handler_publishes_and_reschedules_early_messages(aws, small_mp4, settings):
    aws_settings = dataclasses.replace(settings, env="prod",
                                       publish_queue_arn="arn:aws:sqs:us-east-1:123456789012:publish",
                                       scheduler_role_arn="arn:aws:iam::123456789012:role/scheduler")
    at = (utcnow() + timedelta(hours=2)).replace(microsecond=0)
    with FakeYouTube() as fake:
        seed(settings, small_mp4, schedule_at=at)
        s = with_urls(aws_settings, fake.url)
        event = {"Records": [{"body": json.dumps({"publication_id": "pub_1"})}]}
        out = worker.sqs_handler(event, None, settings=s)
        assert out == {"processed": [{"publication_id": "pub_1", "status": "queued"}]}
        worker.sqs_handler(event, None, settings=s)  # a redelivery: the existing schedule is fine
        assert fake.log == []
        sched = boto3.client("scheduler", region_name="us-east-1").get_schedule(
            Name=worker.schedule_name("pub_1"))
        assert sched["ScheduleExpression"] == f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})"
        Publication.get("pub_1").update(actions=[Publication.schedule_at.remove()])  # time has come
        out = worker.sqs_handler(event, None, settings=s)
    assert out["processed"][0]["status"] == "published"
    assert len(fake.sessions) == 1


def test_local_scheduler_loop_publishes_due_work(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4, schedule_at=utcnow() - timedelta(seconds=1))
        stop = threading.Event()
        loop = threading.Thread(target=worker.scheduler_loop, args=(stop,),
                                kwargs={"interval": 0.05, "settings": with_urls(settings, fake.url)})
        loop.start()
        deadline = time.time() + 20
        while Publication.get("pub_1").status != "published" and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        loop.join(5)
    assert Publication.get("pub_1").status == "published" and not loop.is_alive()
    assert len(fake.sessions) == 1


def test_stuck_publications_are_failed_not_reposted(aws, small_mp4, settings):
    seed(settings, small_mp4)
    pub = Publication.get("pub_1")
    old = utcnow() - timedelta(hours=2)
    pub.update(actions=[Publication.status.set("uploading"), Publication.updated_at.set(old)])
    assert worker.fail_stale_publications(older_than=timedelta(hours=3)) == []
    assert worker.fail_stale_publications() == ["pub_1"]
    pub = Publication.get("pub_1")
    assert pub.status == "failed" and pub.error.code == "interrupted"
    assert worker.process_publication("pub_1", settings=settings).status == "failed"  # never re-posted
    assert [d.event_type for d in WebhookDelivery.scan()] == ["clip.publish_failed"]
