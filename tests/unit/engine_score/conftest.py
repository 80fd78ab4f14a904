"""Shared, expensive-once fixtures for the score / embeddings / prompt-search tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.engine import embeddings

from .ct2_reference import convert


@pytest.fixture(scope="session")
def ct2_minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 converted for CTranslate2 (the independent reference encoder)."""
    return convert(embeddings.model_dir(), tmp_path_factory.mktemp("ct2") / "minilm")
