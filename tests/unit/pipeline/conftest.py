"""One moto world (from infra/) for the whole package: provisioning costs seconds, so it is shared."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .awsenv import aws_world


@pytest.fixture(scope="package")
def world() -> Iterator[Any]:
    with aws_world() as resources:
        yield resources
