"""The local scorer and clip selection on a known synthetic talk."""

from __future__ import annotations

import random
import re
import wave
from pathlib import Path

import numpy as np

from chalicelib.engine.score import score_candidates, select_clips
from chalicelib.engine.score import text as tx
from chalicelib.engine.types import Candidate, ScoredClip
from chalicelib.settings import Settings

from . import talks
from .conftest import Talk
from .helpers import make_transcript, split_sentences, windows

SUBS = ("hook", "emotion", "value", "self_contained", "pacing")


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def test_filler_kinds_are_detected() -> None:
    cases = {
        "Hey everyone, welcome back to the channel.": "greeting",
        "Please like and subscribe and hit the bell.": "housekeeping",
        "All the links are in the description below.": "housekeeping",
        "Today's video is sponsored by Nord Widgets.": "sponsor",
        "Use code WIDGET for twenty percent off your first order.": "sponsor",
        "Um, where was I?": "disfluency",
        "Thanks for watching, and see you next week.": "outro",
        "Bye for now!": "outro",
    }
    for sentence, kind in cases.items():
        assert tx.filler_kind(sentence) == kind, sentence
    for para in (talks.PRICING, talks.SLEEP, talks.COOKING, talks.ELECTION_1, talks.GARDEN):
        for sentence in re.split(r"(?<=[.?!])\s+", para):
            assert tx.filler_kind(sentence) is None, sentence


def test_every_candidate_is_scored_in_range(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    assert [s.candidate for s in talk_scored] == talk.candidates
    for s in talk_scored:
        assert isinstance(s.virality_score, int) and 0 <= s.virality_score <= 100
        for name in SUBS:
            assert 0.0 <= getattr(s.sub_scores, name) <= 100.0
        assert s.reason.endswith(".") and "\n" not in s.reason and s.reason.count(". ") == 0


def test_candidates_with_filler_are_flagged_and_penalised(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    filler_spans = talk.filler_spans()
    flagged = [s for s in talk_scored if s.is_filler]
    clean = [s for s in talk_scored if not s.is_filler]
    assert flagged and clean
    for s in talk_scored:
        c = s.candidate
        touches = any(_overlap((c.start, c.end), f) > 0 for f in filler_spans)
        assert s.is_filler == touches, (c.text[:80], s.is_filler)
    assert max(s.virality_score for s in flagged) < min(s.virality_score for s in clean)
    assert all("filler" in s.reason for s in flagged)


def test_select_clips_never_picks_filler_and_never_overlaps(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    chosen = select_clips(talk_scored, 10)
    assert 3 <= len(chosen) <= 10
    assert all(not c.is_filler for c in chosen)
    for i, a in enumerate(chosen):
        for b in chosen[i + 1:]:
            assert not a.candidate.overlaps(b.candidate)
    scores = [c.virality_score for c in chosen]
    assert scores == sorted(scores, reverse=True)
    # Greedy: any better-scored non-filler candidate left out overlaps something chosen.
    floor = scores[-1]
    ids = {id(c) for c in chosen}
    for s in talk_scored:
        if not s.is_filler and id(s) not in ids and s.virality_score > floor:
            assert any(s.candidate.overlaps(c.candidate) for c in chosen)
    for f in talk.filler_spans():
        assert all(_overlap((c.candidate.start, c.candidate.end), f) == 0 for c in chosen)
    assert len(select_clips(talk_scored, 2)) == 2


def test_best_clip_is_the_hooky_pricing_story(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    best = select_clips(talk_scored, 1)[0]
    (pricing,) = talk.span_of("pricing")
    assert best.candidate.start == pricing[0]
    assert best.candidate.text.startswith("Here's the mistake")
    assert best.sub_scores.hook >= 60


def test_titles_descriptions_hashtags(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    for s in talk_scored:
        assert 2 <= len(s.title) <= 60, s.title
        last = s.title.split()[-1].lower().strip("?!.,")
        assert last not in tx.FRAGMENT_ENDINGS, s.title
        assert s.title[0].isupper()
        assert s.description and "\n" not in s.description and len(s.description) <= 160
        assert 3 <= len(s.hashtags) <= 5
        assert len(set(s.hashtags)) == len(s.hashtags)
        assert all(re.fullmatch(r"#[a-z0-9]{2,}", h) for h in s.hashtags), s.hashtags
    best = select_clips(talk_scored, 1)[0]
    assert best.title == "Here's the Mistake Almost Every Founder Makes with Pricing"
    assert "#business" in best.hashtags  # the topical tag
    # The other tags are distinctive content words of the clip itself.
    clip_words = set(tx.words(best.candidate.text))
    keyword_tags = [h for h in best.hashtags if h != "#business"]
    assert len(keyword_tags) >= 2 and all(h[1:] in clip_words for h in keyword_tags), best.hashtags
    assert not set(keyword_tags) & {"#the", "#makes", "#almost", "#every"}
    (sleep,) = talk.span_of("sleep")
    sleep_clip = next(s for s in select_clips(talk_scored, 10) if s.candidate.start >= sleep[0] - 1e-6
                      and s.candidate.end <= sleep[1] + 1e-6)
    assert {"#sleep", "#memory", "#memories", "#storage", "#students"} & set(sleep_clip.hashtags)


def test_make_title_shortens_without_fragments() -> None:
    long = "Here is why sleep matters more for your memory than any study trick you have ever tried."
    t = tx.make_title(long)
    assert t == "Here Is Why Sleep Matters More for Your Memory"
    t = tx.make_title("Within fifty years, printers across Europe had produced millions and millions of books.")
    assert t == "Printers Across Europe Had Produced Millions and Millions"
    assert tx.make_title("So, um, what would you do?") == "What Would You Do?"
    for n in range(5, 40):
        t = tx.make_title(" ".join(["extraordinary"] * n) + " of the")
        assert len(t) <= 60 and not t.lower().endswith((" of", " the"))


def test_scoring_is_deterministic_and_order_independent(
    talk: Talk, talk_scored: list[ScoredClip], local_settings: Settings
) -> None:
    shuffled = list(talk.candidates)
    random.Random(7).shuffle(shuffled)
    again = score_candidates(talk.transcript, talk.sentences, shuffled, None, settings=local_settings)
    by_span = {(s.candidate.start, s.candidate.end): s.to_dict() for s in again}
    for s in talk_scored:
        assert by_span[(s.candidate.start, s.candidate.end)] == s.to_dict()
    assert [c.to_dict() for c in select_clips(again, 5)] == [c.to_dict() for c in select_clips(talk_scored, 5)]


def _one(paragraphs: list[str], settings: Settings, per_word: float = 0.35) -> ScoredClip:
    tr = make_transcript(paragraphs, per_word=per_word)
    sents = split_sentences(tr)
    cand = Candidate(sents[0].start, sents[-1].end, 0, len(sents) - 1, " ".join(s.text for s in sents))
    return score_candidates(tr, sents, [cand], None, settings=settings)[0]


def test_subscores_respond_to_their_features(local_settings: Settings) -> None:
    body = (
        "Most teams ship features nobody asked for. They skip talking to customers. The fix is to interview "
        "five users every week and write down their exact words."
    )
    hooky = _one(["Here's the secret mistake nobody tells you about product work. " + body], local_settings)
    flat = _one(["And that is basically what the other thing was about. " + body], local_settings)
    assert hooky.sub_scores.hook > flat.sub_scores.hook + 30
    assert hooky.sub_scores.self_contained > flat.sub_scores.self_contained
    calm = _one(["The meeting covered the quarterly schedule and the room bookings for next month."], local_settings)
    wild = _one(["This was the worst, most terrifying disaster of my life! I was shocked and crying!"], local_settings)
    assert wild.sub_scores.emotion > calm.sub_scores.emotion + 30
    brisk = _one([body], local_settings, per_word=0.35)
    slow = _one([body], local_settings, per_word=1.4)
    assert brisk.sub_scores.pacing > 80 > slow.sub_scores.pacing + 30
    how_to = _one(["Here is how to fix it, step by step, because the lesson is that research shows small "
                   "habits compound by forty percent."], local_settings)
    chatter = _one(["We went to the park and then we walked around for a while and then we went home."],
                   local_settings)
    assert how_to.sub_scores.value > chatter.sub_scores.value + 30


def _write_wav(path: Path, seconds: float, amplitude: np.ndarray, sr: int = 16000) -> Path:
    t = np.arange(int(seconds * sr)) / sr
    env = np.interp(t, np.linspace(0, seconds, len(amplitude)), amplitude)
    data = (np.sin(2 * np.pi * 180 * t) * env * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(data.tobytes())
    return path


def test_audio_energy_dynamics_raise_emotion(tmp_path: Path, local_settings: Settings) -> None:
    para = talks.GARDEN
    tr = make_transcript([para, para])
    sents = split_sentences(tr)
    half = len(sents) // 2
    cands = [
        Candidate(sents[0].start, sents[half - 1].end, 0, half - 1, para),
        Candidate(sents[half].start, sents[-1].end, half, len(sents) - 1, para),
    ]
    # First telling: flat and quiet. Second: loud, with big swings in level.
    mid = (sents[half - 1].end + sents[half].start) / 2
    points = 2000
    ts = np.linspace(0, tr.duration, points)
    rng = np.random.default_rng(0)
    amp = np.where(ts < mid, 0.15, 0.3 + 0.6 * rng.random(points))
    wav = _write_wav(tmp_path / "a.wav", tr.duration, amp)
    flat, lively = score_candidates(tr, sents, cands, wav, settings=local_settings)
    silent = score_candidates(tr, sents, cands, None, settings=local_settings)
    assert silent[0].sub_scores.emotion == silent[1].sub_scores.emotion  # same words, no audio
    assert lively.sub_scores.emotion > flat.sub_scores.emotion + 10


def test_windows_helper_sanity(talk: Talk) -> None:
    assert all(10.0 <= c.duration <= 40.0 for c in talk.candidates)
    assert windows(talk.sentences, 1000, 2000) == []
