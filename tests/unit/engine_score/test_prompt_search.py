"""Prompt clipping on a known synthetic talk: topics, multiple mentions, semantics, thresholds, re-rank."""

from __future__ import annotations

import logging

import pytest

from chalicelib.engine.prompt_search import find_moments, is_multi
from chalicelib.engine.types import ScoredClip
from chalicelib.settings import Settings, load_settings

from .conftest import MAX_DURATION, MIN_DURATION, Talk
from .fake_llm import FakeLLM


def _find(talk: Talk, prompt: str, settings: Settings, max_clips: int = 3) -> tuple[list[ScoredClip], str | None]:
    return find_moments(
        talk.transcript, talk.sentences, prompt, max_clips, MIN_DURATION, MAX_DURATION, settings=settings
    )


def _inside(clip: ScoredClip, span: tuple[float, float], tol: float = 0.5) -> bool:
    return clip.candidate.start >= span[0] - tol and clip.candidate.end <= span[1] + tol


def _check_shape(talk: Talk, clips: list[ScoredClip], prompt: str) -> None:
    words = talk.transcript.words
    for c in clips:
        cand = c.candidate
        assert MIN_DURATION <= cand.duration <= MAX_DURATION
        first, last = talk.sentences[cand.first_sentence], talk.sentences[cand.last_sentence]
        # Cut in the pauses around whole sentences: exactly those sentences' words are inside.
        inside = talk.transcript.words_between(cand.start, cand.end)
        assert inside == words[first.first_word: last.last_word + 1]
        assert cand.start <= first.start and cand.end >= last.end
        assert cand.text == " ".join(s.text for s in talk.sentences[cand.first_sentence: cand.last_sentence + 1])
        assert c.prompt == prompt
        assert c.relevance is not None and 0.0 <= c.relevance <= 1.0
        assert 0 <= c.virality_score <= 100 and c.title and 3 <= len(c.hashtags) <= 5
    for i, a in enumerate(clips):
        for b in clips[i + 1:]:
            assert not a.candidate.overlaps(b.candidate)
    rels = [c.relevance for c in clips]
    assert rels == sorted(rels, reverse=True)


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        ("the part about pricing", "pricing"),
        ("the part where she explains why sleep helps memory", "sleep"),
        ("the funniest story", "cooking"),
        ("gardening advice about tomatoes", "garden"),
    ],
)
def test_prompt_finds_the_asked_for_part(talk: Talk, local_settings: Settings, prompt: str, topic: str) -> None:
    clips, reason = _find(talk, prompt, local_settings)
    assert reason is None
    assert clips
    _check_shape(talk, clips, prompt)
    (span,) = talk.span_of(topic)
    assert _inside(clips[0], span), (clips[0].candidate.text[:80], span)
    assert clips[0].relevance >= local_settings.prompt_min_relevance
    assert not clips[0].is_filler


def test_every_mention_returns_each_moment(talk: Talk, local_settings: Settings) -> None:
    prompt = "every time they mention the election"
    assert is_multi(prompt) and not is_multi("the part about pricing")
    clips, reason = _find(talk, prompt, local_settings, max_clips=5)
    assert reason is None
    _check_shape(talk, clips, prompt)
    spans = talk.span_of("election")
    assert len(clips) == 2
    for span in spans:
        assert sum(_inside(c, span) for c in clips) == 1
    assert all("election" in c.candidate.text.lower() for c in clips)
    # A single-moment request about the same topic returns fewer clips (the best one(s) only).
    single, _ = _find(talk, "the election", local_settings, max_clips=5)
    assert 1 <= len(single) <= len(clips)


def test_nonsense_prompt_gives_no_clips_and_a_reason(talk: Talk, local_settings: Settings) -> None:
    clips, reason = _find(talk, "quantum zebra marmalade spaceship", local_settings)
    assert clips == []
    assert reason and "threshold" in reason and "quantum zebra" in reason
    clips, reason = _find(talk, "   ", local_settings)
    assert clips == [] and reason


def test_threshold_is_a_setting(talk: Talk) -> None:
    strict = load_settings(environ={}, prompt_min_relevance=0.999)
    clips, reason = _find(talk, "the part about pricing", strict)
    assert clips == [] and reason


def test_too_short_for_min_duration(talk: Talk, local_settings: Settings) -> None:
    clips, reason = find_moments(
        talk.transcript, talk.sentences, "the part about pricing", 3, 500.0, 600.0, settings=local_settings
    )
    assert clips == [] and reason and "shorter than the minimum" in reason


def test_prompt_search_is_deterministic(talk: Talk, local_settings: Settings) -> None:
    a, _ = _find(talk, "every time they mention the election", local_settings)
    b, _ = _find(talk, "every time they mention the election", local_settings)
    assert [c.to_dict() for c in a] == [c.to_dict() for c in b]


def test_max_clips_caps_results(talk: Talk, local_settings: Settings) -> None:
    clips, _ = _find(talk, "every time they mention the election", local_settings, max_clips=1)
    assert len(clips) == 1


def test_llm_rerank_reorders_by_its_judgement(talk: Talk, local_settings: Settings) -> None:
    prompt = "every time they mention the election"
    local, _ = _find(talk, prompt, local_settings, max_clips=5)
    with FakeLLM("ok") as fake:
        settings = load_settings(environ={}, scorer="openai", llm_base_url=fake.base_url, llm_timeout_seconds=10)
        clips, reason = _find(talk, prompt, settings, max_clips=5)
    assert reason is None
    assert len(fake.requests) == 1
    user = fake.requests[0]["body"]["messages"][-1]["content"]
    assert user.startswith(f"Request: {prompt}\n")
    # The fake judges the passage about volunteers most relevant (0.97), the other election one 0.9.
    assert [c.relevance for c in clips] == [0.97, 0.9]
    assert "volunteers" in clips[0].candidate.text
    assert {(c.candidate.start, c.candidate.end) for c in clips} == {
        (c.candidate.start, c.candidate.end) for c in local
    }


@pytest.mark.parametrize("mode", ["garbage", "hang"])
def test_llm_rerank_failure_keeps_hybrid_ranking(
    mode: str, talk: Talk, local_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    prompt = "every time they mention the election"
    local, _ = _find(talk, prompt, local_settings, max_clips=5)
    with FakeLLM(mode) as fake:
        settings = load_settings(environ={}, scorer="openai", llm_base_url=fake.base_url, llm_timeout_seconds=0.5)
        clips, reason = _find(talk, prompt, settings, max_clips=5)
    assert reason is None
    assert [c.to_dict() for c in clips] == [c.to_dict() for c in local]
    assert "keeping the hybrid ranking" in caplog.text
