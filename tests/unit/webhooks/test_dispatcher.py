"""The SQS-fed dispatcher against a real loopback receiver: signatures, retries, the DLQ, the log."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest
import requests

from chalicelib.data import storage
from chalicelib.data.models import Project, WebhookDelivery, utcnow
from chalicelib.settings import get_settings
from chalicelib.webhooks import dispatcher, events
from chalicelib.webhooks.signing import verify_signature
from tests.unit.pipeline.awsenv import Receiver, drain_webhooks, make_account, patched_env, reset_caches

SECRET = "whsec_dispatch_test"


@pytest.fixture
def receiver() -> Any:
    rcv = Receiver().start()
    yield rcv
    rcv.stop()


@pytest.fixture
def project(world: Any, receiver: Receiver, request: pytest.FixtureRequest) -> Project:
    make_account("acme", SECRET)
    pid = "proj_" + request.node.name[-20:].replace("[", "_").replace("]", "_")
    p = Project(pid, tenant="acme#test", account_id="acme", webhook_url=receiver.url, status="completed")
    p.save()
    return p


def _queue_depth(url: str) -> int:
    sqs = boto3.client("sqs", region_name="us-east-1")
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_delivered_event_is_signed_deduplicable_and_has_fresh_urls(project: Project, receiver: Receiver) -> None:
    key = storage.clip_video_key(project.tenant, project.project_id, "clip_1", 1080, 1920)
    storage.s3_client().put_object(Bucket=storage.bucket(), Key=key, Body=b"video-bytes")
    payload = {"event": "project.completed", "project_id": project.project_id,
               "clips": [{"id": "clip_1", "download_url": {events.PRESIGN: key}}]}
    event_id = events.enqueue(project, "project.completed", payload)
    assert drain_webhooks() == 1
    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert verify_signature(SECRET, got.headers["Klipstar-Signature"], got.body)
    assert got.headers["Klipstar-Event-Id"] == event_id
    assert got.headers["Klipstar-Event"] == "project.completed"
    body = json.loads(got.body)
    assert body["project_id"] == project.project_id
    url = body["clips"][0]["download_url"]
    assert url.startswith("http") and "X-Amz-Signature" in url
    assert requests.get(url, timeout=5).content == b"video-bytes"  # moto serves presigned GETs in-process
    row = WebhookDelivery.get(event_id)
    assert row.status == "delivered"
    assert [a["status_code"] for a in row.attempts] == [200]
    assert row.attempts[0]["latency_ms"] >= 0
    # a duplicate message (at-least-once SQS) sends nothing twice
    dispatcher.handle_message(json.dumps({"event_id": event_id}), None)
    assert len(receiver.received) == 1


def test_non_2xx_is_retried_with_backoff_then_delivered(project: Project, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    event_id = events.enqueue(project, "project.failed", {"event": "project.failed", "project_id": project.project_id})
    queue = get_settings().webhook_queue_url
    drain_webhooks()
    row = WebhookDelivery.get(event_id)
    assert row.status == "pending" and [a["status_code"] for a in row.attempts] == [500]
    assert row.attempts[0]["error"] == "HTTP 500"
    # the message stays on the queue, hidden for the backoff delay
    assert _queue_depth(queue) == 1
    assert drain_webhooks() == 0
    for _ in range(2):  # make the hidden message visible again, as time passing would
        _expire_visibility(queue)
        drain_webhooks()
    row = WebhookDelivery.get(event_id)
    assert row.status == "delivered"
    assert [a["status_code"] for a in row.attempts] == [500, 503, 200]
    assert _queue_depth(queue) == 0


def _expire_visibility(queue: str) -> None:
    """moto keeps hidden messages in its backend: make them visible now (time travel for the test)."""
    from moto.sqs.models import sqs_backends

    name = queue.rsplit("/", 1)[1]
    q = sqs_backends["123456789012"]["us-east-1"].queues[name]
    for message in q._messages:
        message.change_visibility(0)


def test_backoff_schedule_spans_about_a_day() -> None:
    delays = []
    total = 0
    attempt = 1
    while total < 24 * 3600:
        d = dispatcher.backoff(attempt)
        delays.append(d)
        total += d
        attempt += 1
    assert delays[0] <= 30 and delays[1] > delays[0]  # exponential
    assert max(delays) <= 6 * 3600  # never beyond SQS's 12 h visibility limit
    assert 10 <= len(delays) <= 16  # ~a dozen attempts over the day


def test_gives_up_after_the_window_and_parks_in_the_dlq(project: Project, receiver: Receiver) -> None:
    receiver.statuses = [500]
    event_id = events.enqueue(project, "project.failed", {"event": "project.failed", "project_id": project.project_id})
    row = WebhookDelivery.get(event_id)
    row.update(actions=[WebhookDelivery.retry_from.set(utcnow() - timedelta(hours=25))])
    drain_webhooks()
    assert WebhookDelivery.get(event_id).status == "failed"
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq = get_settings().webhook_dlq_url
    parked = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert any(json.loads(m["Body"])["event_id"] == event_id for m in parked)
    # resend opens a new window and delivers
    dispatcher.resend(event_id)
    drain_webhooks()
    row = WebhookDelivery.get(event_id)
    assert row.status == "delivered" and [a["status_code"] for a in row.attempts] == [500, 200]


def test_refused_address_and_timeout_are_logged_and_retried(project: Project, receiver: Receiver) -> None:
    with patched_env({"KLIPSTAR_ALLOW_PRIVATE_URLS": "false", "KLIPSTAR_ENV": "prod"}):
        reset_caches()
        event_id = events.enqueue(project, "project.failed", {"event": "project.failed"})
        drain_webhooks()
    reset_caches()
    row = WebhookDelivery.get(event_id)
    assert row.status == "pending" and row.attempts[0]["error"].startswith("refused")
    assert receiver.received == []  # the loopback receiver was never contacted

    slow_server = _slow_server(2.0)
    try:
        project.update(actions=[Project.webhook_url.set(slow_server[0])])
        project.refresh()
        event_id = events.enqueue(project, "project.failed", {"event": "project.failed"})
        started = time.monotonic()
        dispatcher.handle_message(json.dumps({"event_id": event_id}), None)
        assert time.monotonic() - started < 20  # the timeout cut the 30 s answer short (a wide margin: noisy CI)
        assert WebhookDelivery.get(event_id).attempts[0]["error"] == "timeout"
    finally:
        slow_server[1].shutdown()
    _drain_all()


def _drain_all() -> None:
    queue = get_settings().webhook_queue_url
    boto3.client("sqs", region_name="us-east-1").purge_queue(QueueUrl=queue)


def _slow_server(delay: float) -> tuple[str, Any]:
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(delay)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/slow", server


def test_background_worker_delivers_and_stops(project: Project, receiver: Receiver) -> None:
    import threading

    from chalicelib.local.resources import local_workers

    stop = threading.Event()
    webhook_worker = next(w for w in local_workers() if w.name == "webhooks")
    thread = threading.Thread(target=webhook_worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        payload = {"event": "clip.published", "project_id": project.project_id}
        event_id = events.enqueue(project, "clip.published", payload)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not receiver.received:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(5)
    assert not thread.is_alive()
    assert receiver.received and receiver.received[0].headers["Klipstar-Event-Id"] == event_id
    assert WebhookDelivery.get(event_id).status == "delivered"
