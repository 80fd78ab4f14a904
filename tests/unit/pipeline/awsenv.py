"""A moto world for pipeline and webhook tests: every resource created from infra/ by the local runtime.

`aws_world()` sets the KLIPSTAR_* / AWS_* variables, enters mock_aws with the Step Functions executor
on and Docker-less Lambda, provisions tables, bucket, queues, fake functions (dispatched in-process by
the seam) and the state machine from infra/pipeline.asl.json, and resets every cached client.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto import mock_aws

BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "KLIPSTAR_ENV": "dev",
    "KLIPSTAR_AWS_REGION": "us-east-1",
    "KLIPSTAR_TABLE_PREFIX": "pipetest-",
    "KLIPSTAR_BUCKET": "pipetest-media",
    "KLIPSTAR_ALLOW_PRIVATE_URLS": "true",
    "KLIPSTAR_WHISPER_THREADS": "2",
    "KLIPSTAR_RENDER_CONCURRENCY": "2",
    "KLIPSTAR_X264_PRESET": "ultrafast",
    "KLIPSTAR_RENDER_SOURCE": "download",  # in-process moto: presigned URLs reach no server
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "KlipstarTest",
    "POWERTOOLS_DEV": "false",
    "KLIPSTAR_TOKEN_ENCRYPTION_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # sealed webhook secrets
}


def reset_caches() -> None:
    from chalicelib.data import aws, models, storage
    from chalicelib.settings import get_settings

    get_settings.cache_clear()
    storage.s3_client.cache_clear()
    aws.reset_clients()
    models.bind_models()


@contextmanager
def patched_env(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def aws_world(**extra_env: str) -> Iterator[Any]:
    """Yield the LocalResources of a fresh moto world (the seam installed, removed afterwards)."""
    from chalicelib.local import aws, lambda_seam

    env = {**BASE_ENV, **{k: str(v) for k, v in extra_env.items()}}
    with patched_env(env), mock_aws(config=aws.MOTO_CONFIG):
        reset_caches()
        resources = aws.provision()
        with patched_env(resources.env()):
            reset_caches()
            try:
                yield resources
            finally:
                lambda_seam.uninstall()
    reset_caches()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback webhook receiver answering with the next status in `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    _server: Any = None

    def start(self) -> Receiver:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                outer.received.append(Received({k: v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def make_account(account_id: str = "acme", secret: str = "whsec_test_secret") -> Any:
    from chalicelib.data.models import Account

    account = Account(account_id, plan="studio", webhook_secret=secret)
    account.save()
    return account


def make_project(project_id: str, tenant: str = "acme#test", **fields: Any) -> Any:
    """A project row the way POST /v1/projects leaves it (slot taken)."""
    from chalicelib.data import quotas
    from chalicelib.data.models import Project

    quotas.acquire_project_slot(tenant.split("#")[0], "studio")
    project = Project(project_id, tenant=tenant, account_id=tenant.split("#")[0], **fields)
    project.save()
    return project


def start(resources: Any, project_id: str, tenant: str = "acme#test", **extra: Any) -> str:
    """Start an execution the way the API does: input {project_id, tenant}, named by the project id."""
    import boto3

    from chalicelib.data.models import Project

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.start_execution(
        stateMachineArn=resources.state_machine_arn,
        name=extra.pop("name", project_id),
        input=json.dumps({"project_id": project_id, "tenant": tenant, **extra}),
    )["executionArn"]
    if "prompt_job_id" not in extra:
        Project(project_id).update(actions=[Project.execution_arn.set(arn)])
    return arn


def wait_execution(arn: str, timeout: float = 240.0) -> dict[str, Any]:
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=arn)
        if desc["status"] != "RUNNING":
            return desc
        time.sleep(0.25)
    raise TimeoutError(f"execution {arn} still running after {timeout} s")


def history(arn: str) -> list[dict[str, Any]]:
    import boto3

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    return sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def drain_webhooks(max_rounds: int = 5) -> int:
    """Play the webhook queue's event source until the queue has nothing visible."""
    from chalicelib.local.event_source import drain_webhooks as drain

    return drain(max_rounds)
