"""Sentences and candidate windows: on the real talk transcript, and on hand-made transcripts."""

from __future__ import annotations

import numpy as np
import pytest

from chalicelib.engine.segment import CUT_PAD, build_candidates, split_sentences
from chalicelib.engine.types import Transcript, Word


def _rms(samples: np.ndarray, t: float, half: float = 0.01) -> float:
    seg = samples[max(0, round((t - half) * 16000)) : round((t + half) * 16000)]
    return float(np.sqrt(np.mean(seg**2))) if len(seg) else 0.0


def test_sentences_cover_every_word_once(talk_transcript: Transcript) -> None:
    sentences = split_sentences(talk_transcript)
    assert len(sentences) >= 30
    expected = 0
    for s in sentences:
        assert s.first_word == expected and s.last_word >= s.first_word
        words = talk_transcript.words[s.first_word : s.last_word + 1]
        assert s.text == " ".join(w.text for w in words)
        assert (s.start, s.end) == (words[0].start, words[-1].end)
        expected = s.last_word + 1
    assert expected == len(talk_transcript.words)
    ends = sum(s.text.endswith((".", "?", "!")) for s in sentences)
    assert ends >= 0.8 * len(sentences)


def test_paragraph_boundaries_are_sentence_boundaries(talk_transcript: Transcript, talk_script: dict) -> None:
    """Every paragraph of the script starts a sentence (a topic never starts mid-sentence)."""
    starts = [s.start for s in split_sentences(talk_transcript)]
    for p in talk_script["paragraphs"]:
        assert min(abs(t - p["start"]) for t in starts) < 0.3, p["topic"]


@pytest.mark.parametrize(("lo", "hi"), [(15.0, 60.0), (5.0, 20.0), (30.0, 90.0)])
def test_candidates_cut_in_pauses_within_bounds(talk_transcript: Transcript, talk_samples, lo, hi) -> None:
    words = talk_transcript.words
    sentences = split_sentences(talk_transcript)
    candidates = build_candidates(talk_transcript, sentences, lo, hi)
    assert len(candidates) > 20
    for c in candidates:
        assert lo - 1e-6 <= c.duration <= hi + 1e-6
        first = words[sentences[c.first_sentence].first_word]
        last = words[sentences[c.last_sentence].last_word]
        i, j = sentences[c.first_sentence].first_word, sentences[c.last_sentence].last_word
        # the start lies in the pause before the first word, the end in the pause after the last word
        assert c.start <= first.start and (i == 0 or c.start >= words[i - 1].end), c
        assert c.end >= last.end and (j == len(words) - 1 or c.end <= words[j + 1].start), c
        assert first.start - c.start <= CUT_PAD + 1e-6 and c.end - last.end <= CUT_PAD + 1e-6
        # ... and in the audio, that pause is silent
        assert _rms(talk_samples, c.start) < 0.003 and _rms(talk_samples, c.end) < 0.003, c
        assert talk_transcript.words_between(c.start, c.end) == words[i : j + 1]
        assert c.text == " ".join(s.text for s in sentences[c.first_sentence : c.last_sentence + 1])
    # every sentence-aligned window that fits is offered
    spans = {(c.first_sentence, c.last_sentence) for c in candidates}
    for a in range(len(sentences)):
        for b in range(a, len(sentences)):
            speech = sentences[b].end - sentences[a].start
            if lo + 2 * CUT_PAD < speech < hi - 2 * CUT_PAD:
                assert (a, b) in spans


def _words(spec: list[tuple[str, float]], dur: float = 0.3) -> list[Word]:
    return [Word(t, s, s + dur) for t, s in spec]


def test_unpunctuated_speech_splits_on_pauses_and_length() -> None:
    spec = [(f"w{i}", i * 0.4) for i in range(200)]  # 80 s of words, no punctuation, no pauses...
    spec[50] = ("w50", spec[50][1] + 2.0)  # ...except one 2 s pause
    spec = [(t, s + (2.0 if i > 50 else 0.0)) for i, (t, s) in enumerate(spec)]
    transcript = Transcript("en", 90.0, _words(spec))
    sentences = split_sentences(transcript)
    assert any(s.last_word == 49 for s in sentences)  # the long pause ends a sentence
    assert all(s.end - s.start <= 20.0 for s in sentences)  # and nothing runs on for ever
    assert [i for s in sentences for i in range(s.first_word, s.last_word + 1)] == list(range(200))


def test_abbreviations_and_capitals() -> None:
    spec = [("I", 0.0), ("met", 0.4), ("Dr.", 0.8), ("Smith", 1.2), ("today.", 1.6), ("Then", 2.3),
            ("we", 2.7), ("talked", 3.1), ("Okay", 4.2), ("bye", 4.6)]  # fmt: skip
    sentences = split_sentences(Transcript("en", 5.0, _words(spec)))
    assert [s.text for s in sentences] == ["I met Dr. Smith today.", "Then we talked", "Okay bye"]


def test_pads_shrink_to_fit_max_duration() -> None:
    words = _words([("Hello", 1.0), ("there.", 1.4), ("More", 5.0), ("words.", 14.7)])
    transcript = Transcript("en", 20.0, words)
    sentences = split_sentences(transcript)
    (c,) = [c for c in build_candidates(transcript, sentences, 10.0, 14.2) if c.first_sentence == 0]
    assert c.duration <= 14.2 and c.start < 1.0 and c.end > 15.0
    assert build_candidates(transcript, sentences, 14.0, 14.1) == []
