"""Never posting twice: the stored upload handle, resume-only retries, interleaved claims, deleted rows,
and the token refresh schedule with reconnect_required."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from datetime import timedelta

import boto3
import pytest
from pynamodb.exceptions import DoesNotExist

from chalicelib.data.models import Project, Publication, SocialAccount, WebhookDelivery, utcnow
from chalicelib.publishing import worker
from chalicelib.publishing.base import TokenSet
from chalicelib.publishing.tokens import decrypt_tokens, encrypt_tokens
from chalicelib.publishing.youtube import YouTubeClient
from tests.fakes.base import Request, TokenBook
from tests.fakes.instagram import FakeInstagram
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.youtube import FakeYouTube

from .conftest import sha256, with_urls
from .test_worker import HOOK, TENANT, seed


class LambdaTimeout(BaseException):
    """What a Lambda timeout looks like to the code: the run stops mid-call, nothing after it runs."""


def killed_in_poll(platform, tokens, **kw):
    """A client factory whose YouTube client dies in its first processing poll (after the upload)."""
    client = YouTubeClient(tokens, **kw)

    def die(video_id: str) -> None:
        raise LambdaTimeout(video_id)

    client.wait_processed = die  # type: ignore[method-assign]
    return client


def test_worker_killed_between_upload_and_poll_resumes_polling_without_uploading_again(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        s = with_urls(settings, fake.url)
        with pytest.raises(LambdaTimeout):
            worker.process_publication("pub_1", settings=s, client_factory=killed_in_poll)
        stuck = Publication.get("pub_1")
        [video_id] = fake.videos
        assert stuck.status == "processing" and stuck.upload_ref == video_id  # stored before the poll
        assert worker.process_publication("pub_1", settings=s).status == "processing"  # redelivery: nothing
        # the maintenance pass finds it stuck and queues it to resume, not to upload
        assert worker.fail_stale_publications(now=utcnow() + timedelta(hours=1), settings=s) == []
        assert Publication.get("pub_1").status == "queued"
        puts = fake.data_puts
        pub = worker.process_publication("pub_1", settings=s)
    assert pub.status == "published" and pub.post_id == video_id and pub.attempts == 2
    assert len(fake.sessions) == 1 and fake.data_puts == puts  # exactly one upload
    assert sha256(fake.received(video_id)) == sha256(small_mp4)
    assert [d.event_type for d in WebhookDelivery.scan()] == ["clip.published"]


def test_processing_timeout_queues_a_poll_only_retry(aws, small_mp4, settings):
    quick = dataclasses.replace(settings, publish_poll_timeout_seconds=0.3)
    with FakeYouTube(processing_polls=10**6) as fake:
        seed(settings, small_mp4)
        s = with_urls(quick, fake.url)
        first = worker.process_publication("pub_1", settings=s)
        assert first.status == "queued" and first.error.code == "processing_timeout"
        assert first.upload_ref in fake.videos and first.schedule_at is not None
        fake.processing_polls = 0
        second = worker.process_publication("pub_1", settings=s)
    assert second.status == "published" and second.post_id == first.upload_ref and second.error is None
    assert len(fake.sessions) == 1


def test_retry_on_aws_is_one_delayed_queue_message(aws, small_mp4, settings):
    sqs = boto3.client("sqs", region_name="us-east-1")
    queue_url = sqs.create_queue(QueueName="publish")["QueueUrl"]
    quick = dataclasses.replace(settings, env="prod", publish_queue_url=queue_url, publish_poll_timeout_seconds=0.3,
                                publish_retry_delay_seconds=60.0)
    event = {"Records": [{"body": json.dumps({"publication_id": "pub_1"})}]}
    with FakeYouTube(processing_polls=10**6) as fake:
        seed(settings, small_mp4)
        s = with_urls(quick, fake.url)
        assert worker.sqs_handler(event, settings=s)["processed"][0]["status"] == "queued"
        worker.sqs_handler(event, settings=s)  # a duplicate arriving early: neither runs nor sends more

        def delayed() -> str:
            attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
            return attrs["Attributes"]["ApproximateNumberOfMessagesDelayed"]

        assert delayed() == "1" and "Messages" not in sqs.receive_message(QueueUrl=queue_url)
        assert len(fake.sessions) == 1 and Publication.get("pub_1").attempts == 1


def test_retries_stop_after_the_configured_runs_keeping_the_handle(aws, small_mp4, settings):
    quick = dataclasses.replace(settings, publish_poll_timeout_seconds=0.1, publish_max_attempts=2)
    with FakeYouTube(processing_polls=10**6) as fake:
        seed(settings, small_mp4)
        s = with_urls(quick, fake.url)
        assert worker.process_publication("pub_1", settings=s).status == "queued"
        last = worker.process_publication("pub_1", settings=s)
    assert last.status == "failed" and last.error.code == "processing_timeout"
    assert last.upload_ref in last.error.message and len(fake.sessions) == 1


def test_tiktok_public_post_in_moderation_is_resumed_not_reposted(aws, small_mp4, settings):
    quick = dataclasses.replace(settings, publish_poll_timeout_seconds=0.3)
    with FakeTikTok(moderation_polls=10**6) as fake:
        seed(settings, small_mp4, target="tiktok")
        s = with_urls(quick, fake.url)
        first = worker.process_publication("pub_1", settings=s)
        [post] = fake.posts.values()
        assert first.status == "queued" and first.post_id is None and first.upload_ref == post.publish_id
        fake.moderation_polls = 0
        second = worker.process_publication("pub_1", settings=s)
    assert second.status == "published" and second.post_id == str(post.post_id) and fake.inits == 1


def test_tiktok_internal_failure_posts_again(aws, small_mp4, settings):
    with FakeTikTok(fail_reason="internal", fail_posts=1) as fake:
        seed(settings, small_mp4, target="tiktok", privacy="private")
        s = with_urls(settings, fake.url)
        first = worker.process_publication("pub_1", settings=s)
        assert first.status == "queued" and first.error.code == "tiktok_internal" and first.upload_ref is None
        second = worker.process_publication("pub_1", settings=s)
    assert second.status == "published" and fake.inits == 2
    assert second.post_id == list(fake.posts)[1]


def test_unverified_youtube_app_records_the_private_upload(aws, small_mp4, settings):
    with FakeYouTube(verified=False) as fake:
        seed(settings, small_mp4)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "published" and pub.privacy == "private"


def test_unverified_youtube_app_refuses_public_before_uploading(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)
        s = dataclasses.replace(with_urls(settings, fake.url), youtube_app_verified=False)
        pub = worker.process_publication("pub_1", settings=s)
    assert pub.status == "failed" and pub.error.code == "privacy_not_allowed" and fake.log == []


def test_interleaved_runs_post_once(aws, small_mp4, settings, monkeypatch):
    """Eight runs all read `queued` before any claims (a gate between read and claim): one posts."""
    runs = 8
    gate = threading.Barrier(runs, timeout=30)
    claim = worker._claim

    def gated_claim(pub: Publication) -> bool:
        gate.wait()  # every run has read the status as queued
        return claim(pub)

    monkeypatch.setattr(worker, "_claim", gated_claim)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with FakeYouTube() as fake:
            seed(settings, small_mp4)
            s = with_urls(settings, fake.url)
            results: list[object] = []
            threads = [threading.Thread(target=lambda: results.append(worker.process_publication("pub_1", settings=s)))
                       for _ in range(runs)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(old)
    assert len(results) == runs
    assert len(fake.sessions) == 1 and len(fake.videos) == 1
    pub = Publication.get("pub_1")
    assert pub.status == "published" and pub.attempts == 1


def test_deleted_publication_is_not_recreated(aws, small_mp4, settings):
    with FakeYouTube() as fake:
        seed(settings, small_mp4)

        def delete_once(req: Request) -> None:
            if req.method == "PUT" and fake.data_puts == 0:
                Publication.get("pub_1").delete()

        fake.on_request = delete_once
        assert worker.process_publication("pub_1", settings=with_urls(settings, fake.url)) is None
    with pytest.raises(DoesNotExist):
        Publication.get("pub_1")
    assert list(Publication.scan()) == [] and list(WebhookDelivery.scan()) == []


def test_refused_token_marks_the_account_reconnect_required(aws, small_mp4, settings):
    book = TokenBook(expire_after=0, refresh_token="other")
    with FakeYouTube(tokens=book) as fake:
        seed(settings, small_mp4)
        pub = worker.process_publication("pub_1", settings=with_urls(settings, fake.url))
    assert pub.status == "failed" and pub.error.code == "auth_failed"
    account = SocialAccount.get("sa_1")
    assert account.status == "reconnect_required"
    [event] = [d for d in WebhookDelivery.scan() if d.event_type == "social_account.reconnect_required"]
    assert event.url == HOOK and event.payload["account_id"] == "sa_1" and "rt-1" not in str(event.payload)


# --- the token refresh schedule -----------------------------------------------------------------------------


def connect_instagram(settings, account_id: str, token: str, *, expires_at: float | None, days_old: float) -> None:
    tokens = TokenSet(token, None, expires_at, {"ig_user_id": "17841400000000001"})
    SocialAccount(social_account_id=account_id, tenant=TENANT, platform="instagram",
                  created_at=utcnow() - timedelta(days=days_old),
                  encrypted_tokens=encrypt_tokens(tokens.to_dict(), account_id, settings)).save()


def test_local_scheduler_refreshes_quiet_instagram_tokens_and_flags_dead_ones(aws, settings):
    Project(project_id="proj_1", tenant=TENANT, account_id="acct_1", webhook_url=HOOK).save()
    with FakeInstagram() as fake:
        s = with_urls(settings, fake.url)
        connect_instagram(s, "sa_noexpiry", "IGAA-1", expires_at=None, days_old=3)  # connected without expires_in
        connect_instagram(s, "sa_fresh", "IGAA-1", expires_at=time.time() + 50 * 86400, days_old=10)
        connect_instagram(s, "sa_dead", "IGAA-expired", expires_at=time.time() + 86400, days_old=59)
        stop = threading.Event()
        loop = threading.Thread(target=worker.scheduler_loop, args=(stop,), kwargs={"interval": 0.05, "settings": s})
        loop.start()
        deadline = time.time() + 20
        while SocialAccount.get("sa_dead").status != "reconnect_required" and time.time() < deadline:
            time.sleep(0.05)
        stop.set()
        loop.join(5)
    assert fake.refreshed_from == ["IGAA-1"]  # only the account without a known expiry
    stored = decrypt_tokens(SocialAccount.get("sa_noexpiry").encrypted_tokens, "sa_noexpiry", s)
    assert stored["access_token"] == "IGAA-2" and stored["expires_at"] > time.time() + 59 * 86400
    assert SocialAccount.get("sa_fresh").status == SocialAccount.get("sa_noexpiry").status == "active"
    assert SocialAccount.get("sa_dead").status == "reconnect_required"
    events = [d for d in WebhookDelivery.scan() if d.event_type == "social_account.reconnect_required"]
    assert [e.payload["account_id"] for e in events] == ["sa_dead"]
    # a second pass sends nothing more and leaves the flagged account alone
    assert worker.refresh_due_accounts(settings=s) == {"refreshed": [], "reconnect_required": []}
    assert len([d for d in WebhookDelivery.scan() if d.event_type == "social_account.reconnect_required"]) == 1


def test_scheduled_maintenance_lambda_resumes_uploaded_and_fails_unknown_stuck_publications(aws, small_mp4, settings):
    from app import publish_maintenance

    old = utcnow() - timedelta(hours=2)
    seed(settings, small_mp4)
    seed(settings, small_mp4, pub_id="pub_2")
    Publication.get("pub_1").update(actions=[Publication.status.set("processing"), Publication.updated_at.set(old),
                                             Publication.upload_ref.set("vid9")])
    Publication.get("pub_2").update(actions=[Publication.status.set("uploading"), Publication.updated_at.set(old)])
    event = {"version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-11-29T00:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/klipstar-publish-maintenance"], "detail": {}}
    out = publish_maintenance(event, None)
    assert out["failed_publications"] == ["pub_2"] and out["reconnect_required"] == []
    resumed = Publication.get("pub_1")
    assert resumed.status == "queued" and resumed.upload_ref == "vid9" and resumed.error.code == "interrupted"
    assert Publication.get("pub_2").error.code == "interrupted"
