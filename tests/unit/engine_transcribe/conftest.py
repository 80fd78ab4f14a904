"""Shared results for the transcription tests (the talk transcript itself is the session fixture in tests/)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.engine.audio import load_wav
from chalicelib.engine.types import Transcript


def norm(text: str) -> str:
    return re.sub(r"[^\w']", "", text.lower())


@pytest.fixture(scope="session")
def talk_samples(talk_wav: Path):
    samples, sr = load_wav(talk_wav)
    assert sr == 16000
    return samples


@pytest.fixture(scope="session")
def chunked_transcript(talk_wav: Path) -> tuple[list[tuple[float, float]], Transcript]:
    """The talk transcribed in ~40 s chunks cut at silences, merged (as the pipeline's Map state does)."""
    from chalicelib.engine.transcribe import merge_transcripts, plan_chunks, transcribe
    from chalicelib.settings import load_settings

    settings = load_settings(environ={})
    chunks = plan_chunks(talk_wav, 40.0)
    parts = [transcribe(talk_wav, language=None, settings=settings, offset=a, duration=b - a) for a, b in chunks]
    return chunks, merge_transcripts(parts[::-1])  # merge must not depend on arrival order
