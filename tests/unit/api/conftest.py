"""Fixtures for the API tests (moto + chalice.test.Client)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .apienv import ApiEnv, api_env


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[ApiEnv]:
    with api_env(monkeypatch) as e:
        yield e
