"""Scores that explain themselves: quote spans behind the hook and value sub-scores, and `quality: low`."""

from __future__ import annotations

from chalicelib.engine.score import QUALITY_FLOOR, assess_quality, score_candidates, select_clips
from chalicelib.engine.types import ScoredClip
from chalicelib.settings import Settings

from .conftest import MAX_DURATION, MIN_DURATION, Talk
from .helpers import make_transcript, split_sentences, windows

DULL = [
    "The meeting is on Tuesday at the usual time in the usual room.",
    "The room is on the second floor next to the printer.",
    "Please bring the forms that were sent out last week.",
    "The forms are also available at the front desk.",
    "The next meeting after that will be on the following Tuesday.",
    "Parking is available in the lot behind the building.",
    "The lot closes at six in the evening on weekdays.",
    "Coffee will be provided in the room as usual.",
    "The agenda will be the same as it was last time.",
    "Minutes from the last meeting are in the shared folder.",
]


def test_quotes_point_at_the_words_that_drove_hook_and_value(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    words = talk.transcript.words
    for clip in select_clips(talk_scored, 5):
        c = clip.candidate
        drives = [q["drives"] for q in clip.quotes]
        assert drives == ["hook", "value"]
        for q in clip.quotes:
            span = words[q["first_word"]: q["last_word"] + 1]
            assert " ".join(w.text for w in span) == q["text"]
            assert (span[0].start, span[-1].end) == (q["start"], q["end"])
            assert c.start <= q["start"] and q["end"] <= c.end  # inside the clip
        hook = clip.quotes[0]
        # The hook quote is the clip's opening sentence (or the next one after a trivial "Okay.").
        opening = talk.sentences[c.first_sentence]
        assert hook["first_word"] in (opening.first_word, opening.last_word + 1)
        # In clip terms: indexes into the clip's own transcript words, clip seconds.
        clip_words = talk.transcript.clip_words(c.start, c.end)
        for q in clip.clip_quotes(talk.transcript):
            assert " ".join(w.text for w in clip_words[q["first_word"]: q["last_word"] + 1]) == q["text"]
            assert abs(clip_words[q["first_word"]].start - q["start"]) < 1e-3
        assert ScoredClip.from_dict(clip.to_dict()).quotes == clip.quotes


def test_value_quote_is_the_takeaway(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    lesson = next(c for c in select_clips(talk_scored, 5) if "the lesson is simple" in c.candidate.text.lower())
    value = lesson.quotes[1]["text"].lower()
    assert "lesson" in value or "price is a signal" in value, value


def test_strong_talk_is_ok_and_dull_talk_says_low(talk_scored: list[ScoredClip], local_settings: Settings) -> None:
    good = assess_quality(select_clips(talk_scored, 3))
    assert good["level"] == "ok" and good["best_score"] >= QUALITY_FLOOR

    transcript = make_transcript(DULL)
    sentences = split_sentences(transcript)
    scored = score_candidates(transcript, sentences, windows(sentences, MIN_DURATION, MAX_DURATION), None,
                              settings=local_settings)
    chosen = select_clips(scored, 3)
    assert chosen, "a dull talk still has clips"
    low = assess_quality(chosen)
    assert low["level"] == "low" and low["best_score"] < QUALITY_FLOOR
    assert f"only {low['best_score']}" in low["reason"] and "(below" in low["reason"]
    assert assess_quality([]) == {"level": "low", "best_score": None, "reason": "No clip was found in this video."}


def test_clips_spanning_two_topics_lose_self_containment(talk: Talk) -> None:
    from chalicelib.engine import topics
    from chalicelib.engine.score.local import CROSS_TOPIC_PENALTY, LocalScorer
    from chalicelib.engine.types import Transcript

    chapters = topics.segment_topics(talk.sentences)
    plain = LocalScorer(talk.transcript, talk.sentences, None)
    with_topics = LocalScorer(
        Transcript(talk.transcript.language, talk.transcript.duration, talk.transcript.words, chapters),
        talk.sentences, None,
    )
    crossing = inside = 0
    for c in talk.candidates:
        spans = any(c.first_sentence < ch.first_sentence <= c.last_sentence for ch in chapters)
        before, after = plain.self_contained(c), with_topics.self_contained(c)
        if spans:
            crossing += 1
            assert after == max(0.0, before - CROSS_TOPIC_PENALTY)
        else:
            inside += 1
            assert after == before
    assert crossing and inside
