"""A moto-backed API environment for tests: tables, bucket, state machine, queue, keys, a fake clock."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

PEPPER = "test-pepper-0123456789"
REGION = "us-east-1"
# A minute boundary, so tests know where the windows start (2027-01-15 08:00:00 UTC).
T0 = float(datetime(2027, 1, 15, 8, 0, 0, tzinfo=UTC).timestamp())
PASS_DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600, "End": True}}})


class FakeClock:
    """The quota clock: starts at T0 and only moves when told."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Resp:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


@dataclass
class ApiEnv:
    client: Client
    clock: FakeClock
    state_machine_arn: str
    queue_url: str
    bucket: str
    auto_tick: float = 61.0  # seconds the clock moves before each call (keeps minute windows fresh)
    keys: dict[str, str] = field(default_factory=dict)

    def key(self, account: str, plan: str = "studio", mode: str = "live") -> str:
        from chalicelib.data.keys import create_key

        minted = create_key(account, mode=mode, plan=plan)
        self.keys[f"{account}#{mode}"] = minted.key
        return minted.key

    def call(self, method: str, path: str, key: str | None = None, json_body: Any = None, *,
             raw: bytes | None = None, headers: dict[str, str] | None = None, tick: bool = True) -> Resp:
        if tick and self.auto_tick:
            self.clock.advance(self.auto_tick)
        hdrs: dict[str, str] = {}
        if key is not None:
            hdrs["Authorization"] = f"Bearer {key}"
        body = b""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            hdrs["Content-Type"] = "application/json"
        if raw is not None:
            body = raw
        hdrs.update(headers or {})
        r = self.client.http.request(method, path, headers=hdrs, body=body)
        return Resp(r.status_code, dict(r.headers), r.body)

    def executions(self) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def execution_input(self, name: str) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = self.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
        return json.loads(sfn.describe_execution(executionArn=arn)["input"])

    def queue_messages(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs", region_name=REGION)
        msgs = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in msgs]


def _serialise_dynamodb_writes(monkeypatch: Any) -> None:
    """Real DynamoDB applies each item write atomically; moto's threads do not, so give moto one lock.

    This only makes each single UpdateItem/PutItem/DeleteItem atomic, like the service: code that read a
    counter and wrote it back in two calls would still over-admit under the parallel test.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in ("update_item", "put_item", "delete_item"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


def _reset_caches(rebind: bool = False) -> None:
    from chalicelib.api import idempotency, openapi
    from chalicelib.data import aws, models, storage
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    if rebind:
        models.bind_models()
        storage.s3_client.cache_clear()
    aws.reset_clients()
    idempotency.reset()
    openapi.build_openapi.cache_clear()


BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "KLIPSTAR_KEY_PEPPER": PEPPER, "KLIPSTAR_ENV": "prod",
    "KLIPSTAR_AWS_REGION": REGION, "KLIPSTAR_S3_ENDPOINT_URL": "", "KLIPSTAR_DYNAMODB_ENDPOINT_URL": "",
    "KLIPSTAR_STEPFUNCTIONS_ENDPOINT_URL": "", "KLIPSTAR_SQS_ENDPOINT_URL": "",
    "KLIPSTAR_ALLOW_PRIVATE_URLS": "false", "POWERTOOLS_LOG_LEVEL": "WARNING",
    "KLIPSTAR_TOKEN_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # social tokens (local key)
}


@contextmanager
def aws_world() -> Iterator[str]:
    """mock_aws with the bucket and every table, once per test package (botocore clients are slow to make)."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in BASE_ENV.items():
            mp.setenv(name, value)
        with mock_aws():
            _reset_caches(rebind=True)
            from chalicelib.data.models import create_tables
            from chalicelib.settings import get_settings

            boto3.client("s3", region_name=REGION).create_bucket(Bucket=get_settings().bucket)
            role = boto3.client("iam", region_name=REGION).create_role(
                RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            create_tables()
            _serialise_dynamodb_writes(mp)
            yield role
            _reset_caches(rebind=True)


def _wipe() -> None:
    """Empty every table and the bucket (between tests)."""
    from chalicelib.data import storage
    from chalicelib.data.models import ALL_MODELS

    for model in ALL_MODELS:
        with model.batch_write() as batch:
            for item in model.scan(attributes_to_get=[model._hash_keyname]):
                batch.delete(item)
    storage.delete_prefix("")


_counter = itertools.count()


@contextmanager
def api_env(monkeypatch: Any, role: str, **settings: str) -> Iterator[ApiEnv]:
    """A fresh API environment (empty tables and bucket, new state machine and queue, fake clock)."""
    for name, value in settings.items():
        monkeypatch.setenv(f"KLIPSTAR_{name.upper()}", value)
    _wipe()
    n = next(_counter)
    sm_arn = boto3.client("stepfunctions", region_name=REGION).create_state_machine(
        name=f"klipstar-pipeline-{n}", definition=PASS_DEFINITION, roleArn=role
    )["stateMachineArn"]
    queue_url = boto3.client("sqs", region_name=REGION).create_queue(QueueName=f"klipstar-publish-{n}")["QueueUrl"]
    monkeypatch.setenv("KLIPSTAR_STATE_MACHINE_ARN", sm_arn)
    monkeypatch.setenv("KLIPSTAR_PUBLISH_QUEUE_URL", queue_url)
    _reset_caches()
    from chalicelib.data import quotas
    from chalicelib.settings import get_settings

    clock = FakeClock()
    quotas.set_clock(clock)
    from app import app

    try:
        with Client(app) as client:
            yield ApiEnv(client=client, clock=clock, state_machine_arn=sm_arn, queue_url=queue_url,
                         bucket=get_settings().bucket)
    finally:
        quotas.set_clock(None)
        _reset_caches()


def seed_completed_project(account_id: str, mode: str = "live", durations: tuple[float, ...] = (30.0, 120.0),
                           platforms: tuple[str, ...] = ("youtube_shorts", "tiktok", "reels")) -> dict[str, Any]:
    """What a finished pipeline leaves: a completed project, ranked clips with renditions and objects."""
    from chalicelib.api.loaders import new_id
    from chalicelib.data import storage
    from chalicelib.data.models import Clip, Project, WebhookDelivery, tenant_of, utcnow
    from chalicelib.engine.platforms import PLATFORMS

    tenant = tenant_of(account_id, mode)
    project_id = new_id("proj_")
    now = utcnow()
    Project(project_id, tenant=tenant, account_id=account_id, status="completed", stage="completed", progress=100,
            created_at=now, updated_at=now, completed_at=now, video_url="https://videos.example.com/talk.mp4",
            platforms=list(platforms), slot_released=True, source_seconds=600.0,
            source_key=storage.source_key(tenant, project_id, "talk.mp4"),
            transcript_key=storage.transcript_key(tenant, project_id),
            chapters=[{"start": 0.5, "end": 61.2, "title": "Pricing Founders"},
                      {"start": 62.0, "end": 599.0, "title": "Sleep Memory"}],
            quality={"level": "ok", "best_score": 92, "reason": "The best clip scores 92 (at least 55)."}).save()
    s3 = storage.s3_client()
    s3.put_object(Bucket=storage.bucket(), Key=storage.source_key(tenant, project_id, "talk.mp4"), Body=b"src")
    storage.put_json(storage.transcript_key(tenant, project_id), {"words": []})
    clip_ids: list[str] = []
    for rank, duration in enumerate(durations):
        clip_id = new_id("clip_")
        renditions = {}
        for name in platforms:
            p = PLATFORMS[name]
            key = storage.clip_video_key(tenant, project_id, clip_id, p.width, p.height)
            s3.put_object(Bucket=storage.bucket(), Key=key, Body=f"video {clip_id} {name}".encode())
            renditions[name] = {"width": p.width, "height": p.height, "key": key}
        thumb = storage.clip_thumbnail_key(tenant, project_id, clip_id)
        s3.put_object(Bucket=storage.bucket(), Key=thumb, Body=b"jpg")
        Clip(clip_id, project_id=project_id, tenant=tenant, rank=rank, title=f"Clip {rank}",
             description="About pricing", hashtags=["#pricing"], virality_score=92 - rank,
             sub_scores={"hook": 80.0, "payoff": 70.5}, reason="strong hook", start=10.0 * rank,
             end=10.0 * rank + duration, duration_seconds=duration,
             transcript={"text": "hello world", "words": [{"text": "hello", "start": 0.0, "end": 0.4}]},
             renditions=renditions, thumbnail_key=thumb,
             quotes=[{"drives": "hook", "first_word": 0, "last_word": 1, "start": 0.0, "end": 0.4,
                      "text": "hello world"}]).save()
        clip_ids.append(clip_id)
    WebhookDelivery(new_id("evt_"), tenant=tenant, project_id=project_id, event_type="project.completed",
                    url="https://hooks.example.com/k", payload={"event": "project.completed"}).save()
    return {"project_id": project_id, "clip_ids": clip_ids, "tenant": tenant}


def seed_social_account(account_id: str, platform: str, mode: str = "live") -> str:
    from chalicelib.api.loaders import new_id
    from chalicelib.data.models import SocialAccount, tenant_of

    sa_id = new_id("sa_")
    SocialAccount(sa_id, tenant=tenant_of(account_id, mode), platform=platform, display_name="Acme",
                  encrypted_tokens="opaque").save()
    return sa_id
