"""One moto world (tables, bucket, queues from infra/) shared by the webhook tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.unit.pipeline.awsenv import aws_world


@pytest.fixture(scope="package")
def world() -> Iterator[Any]:
    with aws_world(KLIPSTAR_WEBHOOK_TIMEOUT_SECONDS="1") as resources:
        yield resources


@pytest.fixture
def clean_queue(world: Any) -> Iterator[None]:
    """Empty the webhook queue after the test (visible and hidden messages), so what it left behind is not
    drained by the next test (moto allows one PurgeQueue a minute, so its backend is emptied directly)."""
    yield
    from moto.sqs.models import sqs_backends

    from chalicelib.settings import get_settings

    name = get_settings().webhook_queue_url.rsplit("/", 1)[1]
    sqs_backends["123456789012"]["us-east-1"].queues[name]._messages.clear()
