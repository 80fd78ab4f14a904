"""Shared, expensive-once fixtures for the score / embeddings / prompt-search tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.engine import embeddings
from chalicelib.engine.score import score_candidates
from chalicelib.engine.types import Candidate, ScoredClip, Sentence, Transcript
from chalicelib.settings import Settings, load_settings

from . import talks
from .ct2_reference import convert
from .helpers import make_transcript, paragraph_spans, split_sentences, windows

MIN_DURATION, MAX_DURATION = 10.0, 40.0


@dataclass
class Talk:
    transcript: Transcript
    sentences: list[Sentence]
    candidates: list[Candidate]
    spans: list[tuple[float, float]]  # per talks.TALK paragraph
    kinds: list[str]
    topics: list[str]

    def span_of(self, topic: str) -> list[tuple[float, float]]:
        return [s for s, t in zip(self.spans, self.topics, strict=True) if t == topic]

    def filler_spans(self) -> list[tuple[float, float]]:
        return [s for s, k in zip(self.spans, self.kinds, strict=True) if k == "filler"]


@pytest.fixture(scope="session")
def ct2_minilm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """all-MiniLM-L6-v2 converted for CTranslate2 (the independent reference encoder)."""
    return convert(embeddings.model_dir(), tmp_path_factory.mktemp("ct2") / "minilm")


@pytest.fixture(scope="session")
def local_settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture(scope="session")
def talk() -> Talk:
    """The known synthetic talk at 0.35 s per word."""
    texts = [t for _, _, t in talks.TALK]
    transcript = make_transcript(texts)
    sentences = split_sentences(transcript)
    return Talk(
        transcript=transcript,
        sentences=sentences,
        candidates=windows(sentences, MIN_DURATION, MAX_DURATION),
        spans=paragraph_spans(transcript, texts),
        kinds=[k for k, _, _ in talks.TALK],
        topics=[t for _, t, _ in talks.TALK],
    )


@pytest.fixture(scope="session")
def talk_scored(talk: Talk, local_settings: Settings) -> list[ScoredClip]:
    return score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=local_settings)
