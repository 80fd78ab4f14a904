"""Lazy, cached boto3 clients for the AWS services the API and pipeline call.

Every client honours the settings' endpoint overrides (local mode points them at moto). Call
`reset_clients()` after changing settings (tests do, together with `get_settings.cache_clear()`).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3

from ..settings import get_settings


@functools.lru_cache(maxsize=1)
def stepfunctions_client() -> Any:
    """Step Functions client (start/stop executions)."""
    settings = get_settings()
    return boto3.client(
        "stepfunctions",
        region_name=settings.aws_region,
        endpoint_url=settings.stepfunctions_endpoint_url or None,
    )


@functools.lru_cache(maxsize=1)
def sqs_client() -> Any:
    """SQS client (publish queue, webhook queue)."""
    settings = get_settings()
    return boto3.client("sqs", region_name=settings.aws_region, endpoint_url=settings.sqs_endpoint_url or None)


@functools.lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    """Low-level DynamoDB client (the idempotency persistence layer uses it; models use PynamoDB)."""
    settings = get_settings()
    return boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url or None
    )


def reset_clients() -> None:
    """Forget every cached client (after settings changed)."""
    for getter in (stepfunctions_client, sqs_client, dynamodb_client):
        getter.cache_clear()
