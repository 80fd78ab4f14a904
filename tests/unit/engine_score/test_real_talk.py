"""Score and prompt search on the real fixture talk (espeak-ng voice, transcribed by faster-whisper tiny.en)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.prompt_search import find_moments
from chalicelib.engine.score import score_candidates, select_clips
from chalicelib.engine.segment import build_candidates, split_sentences
from chalicelib.engine.types import Sentence, Transcript
from chalicelib.settings import Settings

TOLERANCE = 0.35  # cut padding plus whisper's word-timing slack, in seconds


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def _paragraph(script: dict[str, Any], topic: str) -> tuple[float, float]:
    p = next(p for p in script["paragraphs"] if p["topic"] == topic)
    return p["start"], p["end"]


@pytest.fixture(scope="module")
def sentences(talk_transcript: Transcript) -> list[Sentence]:
    return split_sentences(talk_transcript)


def test_selected_clips_contain_no_filler(
    talk_transcript: Transcript, sentences: list[Sentence], talk_wav: Path, talk_script: dict[str, Any],
    local_settings: Settings,
) -> None:
    candidates = build_candidates(talk_transcript, sentences, 15.0, 60.0)
    scored = score_candidates(talk_transcript, sentences, candidates, talk_wav, settings=local_settings)
    chosen = select_clips(scored, 5)
    assert len(chosen) >= 3
    fillers = [(p["start"], p["end"]) for p in talk_script["paragraphs"] if p["kind"] == "filler"]
    contents = [(p["start"], p["end"]) for p in talk_script["paragraphs"] if p["kind"] == "content"]
    for clip in chosen:
        span = (clip.candidate.start, clip.candidate.end)
        for f in fillers:
            assert _overlap(span, f) <= TOLERANCE, (clip.candidate.text[:80], f)
        # Every chosen clip lies within one content paragraph.
        assert any(_overlap(span, c) >= clip.candidate.duration - 2 * TOLERANCE for c in contents)
        assert len(clip.title) <= 60 and 3 <= len(clip.hashtags) <= 5
    # Candidates that do include filler were flagged.
    for s in scored:
        span = (s.candidate.start, s.candidate.end)
        if any(_overlap(span, f) > 1.0 for f in fillers):
            assert s.is_filler, s.candidate.text[:80]


def test_prompt_about_pricing_finds_the_pricing_paragraph(
    talk_transcript: Transcript, sentences: list[Sentence], talk_script: dict[str, Any], local_settings: Settings
) -> None:
    clips, reason = find_moments(
        talk_transcript, sentences, "the part about pricing", 3, 15.0, 60.0, settings=local_settings
    )
    assert reason is None and clips
    pricing = _paragraph(talk_script, "pricing")
    best = clips[0]
    span = (best.candidate.start, best.candidate.end)
    assert _overlap(span, pricing) >= 0.8 * best.candidate.duration
    assert _overlap(span, pricing) >= 0.6 * (pricing[1] - pricing[0])
    assert best.prompt == "the part about pricing" and best.relevance >= local_settings.prompt_min_relevance


def test_semantic_prompt_finds_the_story(
    talk_transcript: Transcript, sentences: list[Sentence], talk_script: dict[str, Any], local_settings: Settings
) -> None:
    clips, reason = find_moments(talk_transcript, sentences, "the funniest story", 1, 15.0, 60.0,
                                 settings=local_settings)
    assert reason is None and len(clips) == 1
    story = _paragraph(talk_script, "cooking disaster")
    span = (clips[0].candidate.start, clips[0].candidate.end)
    assert _overlap(span, story) >= 0.8 * clips[0].candidate.duration


def test_nonsense_prompt_returns_no_clip_and_a_reason(
    talk_transcript: Transcript, sentences: list[Sentence], local_settings: Settings
) -> None:
    clips, reason = find_moments(
        talk_transcript, sentences, "quantum zebra marmalade spaceship", 3, 15.0, 60.0, settings=local_settings
    )
    assert clips == []
    assert reason and "quantum zebra marmalade spaceship" in reason
