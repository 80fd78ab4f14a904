"""Idempotency-Key: replays, body mismatch (422), in flight (409), per tenant and route, 24 h expiry."""

from __future__ import annotations

import threading
import time

import boto3

from chalicelib.api.routes import projects
from chalicelib.data.models import IdempotencyRecord, RateCounter

from .apienv import REGION

BODY = {"video_url": "https://videos.example.com/a.mp4", "max_clips": 5}


def test_replay_returns_first_response_without_second_execution_or_charge(env):
    key = env.key("acme", "creator")
    hdr = {"Idempotency-Key": "create-1"}
    first = env.call("POST", "/v1/projects", key, BODY, headers=hdr, tick=False)
    assert first.status == 201 and first.header("Idempotent-Replayed") is None
    minute = int(env.clock.t // 60)
    second = env.call("POST", "/v1/projects", key, dict(reversed(list(BODY.items()))), headers=hdr, tick=False)
    assert second.status == 201 and second.json == first.json
    assert second.header("Idempotent-Replayed") == "true"
    assert second.header("RateLimit-Remaining") == "2"  # reported, not charged again
    assert len(env.executions()) == 1
    assert RateCounter.get(f"acme#min#{minute}").count == 1
    assert RateCounter.get("acme#concurrent").count == 1
    third = env.call("POST", "/v1/projects", key, BODY, tick=False)  # no key: a new project
    assert third.status == 201 and third.json["id"] != first.json["id"]


def test_same_key_with_another_body_is_422(env):
    key = env.key("acme")
    hdr = {"Idempotency-Key": "k-1"}
    assert env.call("POST", "/v1/projects", key, BODY, headers=hdr).status == 201
    r = env.call("POST", "/v1/projects", key, {**BODY, "max_clips": 6}, headers=hdr)
    assert r.status == 422
    assert r.json["error"]["code"] == "idempotency_key_reused" and r.json["error"]["param"] == "Idempotency-Key"
    assert len(env.executions()) == 1


def test_key_in_flight_is_409(env, monkeypatch):
    key = env.key("acme")
    hdr = {"Idempotency-Key": "slow-1"}
    entered, release = threading.Event(), threading.Event()
    real_start = projects.start_pipeline

    def slow_start(name, payload):
        entered.set()
        release.wait(10)
        return real_start(name, payload)

    monkeypatch.setattr(projects, "start_pipeline", slow_start)
    results = {}
    worker = threading.Thread(target=lambda: results.setdefault(
        "first", env.call("POST", "/v1/projects", key, BODY, headers=hdr, tick=False)))
    worker.start()
    assert entered.wait(10)
    r = env.call("POST", "/v1/projects", key, BODY, headers=hdr, tick=False)
    release.set()
    worker.join(10)
    assert r.status == 409 and r.json["error"]["code"] == "idempotency_in_progress"
    assert results["first"].status == 201
    later = env.call("POST", "/v1/projects", key, BODY, headers=hdr, tick=False)
    assert later.status == 201 and later.json["id"] == results["first"].json["id"]
    assert len(env.executions()) == 1


def test_failed_requests_are_not_stored(env):
    key = env.key("acme")
    hdr = {"Idempotency-Key": "retry-1"}
    bad = env.call("POST", "/v1/projects", key, {"video_url": "ftp://x.example.com/a"}, headers=hdr)
    assert bad.status == 422 and bad.json["error"]["code"] == "url_refused"
    # fixing the body under the same key is allowed: the failed attempt left no record
    good = env.call("POST", "/v1/projects", key, BODY, headers=hdr)
    assert good.status == 201


def test_keys_are_scoped_to_tenant_and_route_and_expire_after_a_day(env):
    a, b = env.key("acme"), env.key("bravo")
    hdr = {"Idempotency-Key": "shared"}
    ra = env.call("POST", "/v1/projects", a, BODY, headers=hdr)
    rb = env.call("POST", "/v1/projects", b, BODY, headers=hdr)
    assert ra.status == rb.status == 201 and ra.json["id"] != rb.json["id"]
    up = env.call("POST", "/v1/uploads", a, {"filename": "a.mp4", "content_type": "video/mp4", "size": 10},
                  headers=hdr)
    assert up.status == 201  # same key, other route: independent
    records = list(IdempotencyRecord.scan())
    assert len(records) == 3
    client = boto3.client("dynamodb", region_name=REGION)
    item = client.get_item(TableName=IdempotencyRecord.Meta.table_name, Key={"id": {"S": records[0].id}})["Item"]
    assert item["status"]["S"] == "COMPLETED"
    assert abs(int(item["expiration"]["N"]) - (time.time() + 86400)) < 120


def test_publish_twice_with_one_key_queues_once(env):
    from .apienv import seed_completed_project, seed_social_account

    key = env.key("acme")
    seeded = seed_completed_project("acme")
    sa = seed_social_account("acme", "youtube")
    body = {"platform": "youtube_shorts", "account_id": sa, "title": "Hi", "privacy": "private"}
    hdr = {"Idempotency-Key": "pub-1"}
    r1 = env.call("POST", f"/v1/clips/{seeded['clip_ids'][0]}/publish", key, body, headers=hdr)
    r2 = env.call("POST", f"/v1/clips/{seeded['clip_ids'][0]}/publish", key, body, headers=hdr)
    assert r1.status == r2.status == 202 and r1.json["id"] == r2.json["id"]
    assert env.queue_messages() == [{"publication_id": r1.json["id"]}]


def test_malformed_idempotency_key_is_400(env):
    key = env.key("acme")
    r = env.call("POST", "/v1/projects", key, BODY, headers={"Idempotency-Key": "x" * 300})
    assert r.status == 400 and r.json["error"]["param"] == "Idempotency-Key"
