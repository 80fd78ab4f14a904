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
