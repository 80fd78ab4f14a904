"""What `klipstar serve` sets up inside the embedded AWS: resources, the local key, the workers."""

from __future__ import annotations

import os
from typing import Any

from ..settings import get_settings
from .runtime import Worker, reset_cached_clients


def provision_all(endpoint_url: str) -> dict[str, str]:
    """Create tables, bucket, queues, functions and the state machine; export their ids to settings."""
    from . import aws

    resources = aws.provision(get_settings(), endpoint_url=endpoint_url)
    exported = resources.env()
    os.environ.update(exported)
    reset_cached_clients()
    return exported


def ensure_local_key(account_id: str, given_key: str | None) -> tuple[str, str]:
    """A test-mode Studio key for the local account (the given one, or a new one) and its signing secret."""
    from ..data import keys
    from ..data.models import tenant_of
    from ..webhooks.signing_secrets import account_ring

    minted = keys.create_key(account_id, mode="test", plan="studio", key=given_key)
    return minted.key, account_ring(tenant_of(account_id, "test")).current


def _due_publications() -> Any:
    from ..publishing import worker

    return worker.scheduler_pass()


def _refresh_tokens() -> Any:
    from ..publishing.accounts import refresh_due_accounts

    return refresh_due_accounts()


def _sweep() -> Any:
    from ..pipeline import sweeper

    return sweeper.sweep()


def local_workers() -> list[Worker]:
    """The SQS-fed workers and timers that Lambda event sources and schedules drive on AWS."""
    from .event_source import poll_queue, publish_handler, webhook_handler

    settings = get_settings()
    return [
        Worker("webhooks", lambda: poll_queue(settings.webhook_queue_url, webhook_handler, wait_seconds=1), 0.1),
        Worker("publish", lambda: poll_queue(settings.publish_queue_url, publish_handler, wait_seconds=1), 0.1),
        Worker("publish-scheduler", _due_publications, interval=5.0),
        Worker("sweeper", _sweep, interval=60.0),
        Worker("token-refresh", _refresh_tokens, interval=settings.token_refresh_interval_seconds),
    ]
