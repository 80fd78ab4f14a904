"""Fixtures for API integration tests (reuse the unit area's moto environment)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.api.apienv import ApiEnv, api_env, aws_world


@pytest.fixture(scope="package")
def aws_role() -> Iterator[str]:
    with aws_world() as role:
        yield role


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, aws_role: str) -> Iterator[ApiEnv]:
    with api_env(monkeypatch, aws_role) as e:
        yield e
