"""The local (default) scorer: deterministic, offline, from transcript text, sentence embeddings and audio.

Sub-scores (each 0-100):
- hook: the first sentence / first ~3 s: questions, numbers, hook phrases ("here's", "secret", "mistake",
  "never"...), bold claims, second person, and semantic closeness to a few hook prototypes.
- emotion: density of intense/emotional words, exclamations, and the audio's loudness dynamics.
- value: insight phrases (how-to, because, lessons, studies, numbers) and closeness to insight prototypes.
- self_contained: no dangling connective or pronoun at the start, ends on a complete sentence, sentences
  coherent with the clip's centroid, a topic shift at the clip's edges.
- pacing: words per second in a comfortable band, few long pauses.
Filler (greetings, housekeeping, sponsor reads, "um, where was I", outros) is flagged and heavily penalised.
"""

from __future__ import annotations

import functools
import itertools
import logging
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import embeddings
from ..types import Candidate, ScoredClip, Sentence, SubScores, Transcript, Word
from . import text as tx

log = logging.getLogger(__name__)

WEIGHTS: dict[str, float] = {"hook": 0.25, "emotion": 0.15, "value": 0.25, "self_contained": 0.20, "pacing": 0.15}
FILLER_FACTOR = 0.15  # a filler clip keeps only this share of its score
CROSS_TOPIC_PENALTY = 30.0  # self_contained points lost by a clip that spans a chapter boundary
HOOK_SECONDS = 3.0
ENERGY_HOP = 0.05  # seconds per RMS frame
IDEAL_WPS = (2.3, 3.4)

HOOK_PROTOTYPES = (
    "Here is the secret nobody tells you about this.",
    "This one mistake cost me everything.",
    "Did you know that most people get this completely wrong?",
    "Let me tell you the craziest thing that ever happened to me.",
    "Stop doing this right now, it is ruining your results.",
    "Here is why this matters more than you think.",
)
INSIGHT_PROTOTYPES = (
    "The lesson I learned is simple, and here is why it matters.",
    "The key insight is that you should do this instead of that.",
    "Research shows this simple habit improves results by forty percent.",
    "This is how it works, step by step, and what you can do about it.",
    "The biggest mistake people make is this, and here is how to avoid it.",
    "The reason this works is that it changes how people behave.",
)
TOPICS: dict[str, str] = {
    "business": "business, startups, founders, pricing, sales, customers, marketing and making money",
    "money": "personal finance, saving, investing, salaries, debt and budgeting",
    "tech": "software, technology, computers, apps, artificial intelligence and the internet",
    "science": "science, experiments, research, the brain, biology, physics and discoveries",
    "health": "health, sleep, exercise, fitness, diet, medicine and wellbeing",
    "history": "history, inventions, ancient times, wars, historical figures and how the world changed",
    "food": "cooking, food, recipes, restaurants, dinner and kitchens",
    "funny": "a funny story, a disaster that went wrong, laughing, an embarrassing moment",
    "motivation": "motivation, habits, mindset, discipline, self improvement and success",
    "education": "studying, learning, school, exams, teachers and students",
    "relationships": "relationships, dating, family, friends, love and parenting",
    "sports": "sports, football, basketball, athletes, training and competition",
    "travel": "travel, trips, countries, cities, flights and adventures",
    "nature": "nature, oceans, animals, the planet, climate and the environment",
    "politics": "politics, elections, government, laws and policy",
    "music": "music, songs, musicians, concerts and albums",
}
# What a typical clip scores; the reason names the sub-scores furthest above these.
TYPICAL = {"hook": 35.0, "emotion": 30.0, "value": 50.0, "self_contained": 75.0, "pacing": 75.0}
SUB_PHRASES = {
    "hook": "a strong opening hook",
    "emotion": "emotional intensity",
    "value": "a clear takeaway",
    "self_contained": "standing on its own",
    "pacing": "lively pacing",
}


def _clip01(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


@functools.lru_cache(maxsize=1)
def _prototype_vectors() -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    hook = embeddings.embed(list(HOOK_PROTOTYPES))
    insight = embeddings.embed(list(INSIGHT_PROTOTYPES))
    topics = embeddings.embed(list(TOPICS.values()))
    return hook, insight, topics, tuple(TOPICS)


# --- audio ---------------------------------------------------------------------------------------------


@dataclass
class Energy:
    """Per-frame loudness (dB) of the whole source, and its voiced-frame statistics."""

    db: np.ndarray
    hop: float
    floor: float  # frames below this are silence
    mean: float
    std: float

    def stats(self, start: float, end: float) -> tuple[float, float] | None:
        """(mean dB, std dB) of voiced frames in [start, end], or None if too few."""
        seg = self.db[int(start / self.hop): max(int(start / self.hop) + 1, int(end / self.hop))]
        voiced = seg[seg > self.floor]
        if voiced.size < 10:
            return None
        return float(voiced.mean()), float(voiced.std())


def load_energy(path: Path | None, hop: float = ENERGY_HOP) -> Energy | None:
    """RMS energy per `hop` seconds from a 16-bit PCM WAV, read in chunks (memory stays flat)."""
    if path is None:
        return None
    try:
        with wave.open(str(path), "rb") as w:
            sr, ch, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            if width != 2:
                raise ValueError("not 16-bit PCM")
            frame = max(1, int(sr * hop))
            chunk_frames = frame * 2000
            values: list[np.ndarray] = []
            rest = np.zeros(0, dtype=np.float32)
            while True:
                raw = w.readframes(chunk_frames)
                if not raw:
                    break
                data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
                if ch > 1:
                    data = data.reshape(-1, ch).mean(axis=1)
                data = np.concatenate([rest, data])
                n = data.size // frame
                blocks = data[: n * frame].reshape(n, frame)
                values.append(np.sqrt((blocks * blocks).mean(axis=1)))
                rest = data[n * frame:]
    except (OSError, EOFError, ValueError, wave.Error) as exc:
        log.warning("audio energy unavailable (%s); scoring from text only", exc)
        return None
    if not values:
        return None
    db = 20.0 * np.log10(np.concatenate(values) + 1e-5)
    floor = max(float(np.percentile(db, 20)) + 6.0, float(db.max()) - 45.0)
    voiced = db[db > floor]
    if voiced.size < 10:
        return None
    return Energy(db=db, hop=hop, floor=floor, mean=float(voiced.mean()), std=float(voiced.std()) or 1.0)


# --- the scorer ----------------------------------------------------------------------------------------


@dataclass
class ClipFeatures:
    """Everything the scorer derived for one candidate (kept for titles/reasons and the LLM backend)."""

    sub: SubScores
    filler_kind: str | None
    hook_sentence: str
    central_sentence: str
    keywords: list[str]
    topic: str | None
    hook_index: int = 0  # sentence that drove the hook sub-score
    value_index: int = 0  # sentence that drove the value sub-score


class LocalScorer:
    """Scores candidates of one transcript; shares the sentence embeddings and keyword model among them."""

    def __init__(self, transcript: Transcript, sentences: Sequence[Sentence], audio: Path | None) -> None:
        self.transcript = transcript
        self.sentences = list(sentences)
        self.sent_vecs = embeddings.embed([s.text for s in self.sentences])  # (0, DIM) when there are none
        self.keywords = tx.KeywordModel([s.text for s in self.sentences])
        self.energy = load_energy(audio)
        self.filler_kinds = sentence_filler_kinds(self.sentences)
        self.hook_vecs, self.insight_vecs, self.topic_vecs, self.topic_names = _prototype_vectors()
        self.hook_sims = (self.sent_vecs @ self.hook_vecs.T).max(axis=1)
        self.insight_sims = (self.sent_vecs @ self.insight_vecs.T).max(axis=1)

    # -- helpers --
    def _words(self, c: Candidate) -> list[Word]:
        first = self.sentences[c.first_sentence].first_word
        last = self.sentences[c.last_sentence].last_word
        return self.transcript.words[first: last + 1]

    def _sent_range(self, c: Candidate) -> range:
        return range(c.first_sentence, c.last_sentence + 1)

    # -- sub-scores --
    def value_sentence(self, c: Candidate) -> int:
        """The sentence that carries the clip's takeaway: insight phrases first, then insight similarity."""
        return max(self._sent_range(c), key=lambda i: (
            tx.count_phrases(self.sentences[i].text, tx.INSIGHT_PHRASES) > 0, round(float(self.insight_sims[i]), 9), -i
        ))

    def quote(self, drives: str, index: int) -> dict[str, object]:
        s = self.sentences[index]
        return {"drives": drives, "first_word": s.first_word, "last_word": s.last_word,
                "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}

    def hook(self, c: Candidate, words: list[Word]) -> tuple[float, str]:
        idx = c.first_sentence
        # A trivial opener ("Okay.") hands the hook to the next sentence, at a cost.
        penalty = 0.0
        if tx.is_trivial(self.sentences[idx].text) and idx < c.last_sentence:
            idx += 1
            penalty += 10.0
        first = self.sentences[idx].text
        opening = " ".join(w.text for w in words if w.start < c.start + HOOK_SECONDS)
        toks = set(tx.words(first))
        pts = 12.0
        pts += 20.0 if "?" in first else 0.0
        pts += 10.0 if tx.has_number(first) or tx.has_number(opening) else 0.0
        pts += 12.0 * min(2, tx.count_phrases(first, tx.HOOK_PHRASES))
        pts += 8.0 if toks & {"you", "your", "you're", "yourself"} else 0.0
        pts += 8.0 if toks & tx.SUPERLATIVES else 0.0
        pts += 30.0 * _clip01((float(self.hook_sims[idx]) - 0.15) / 0.45)
        if tx.starts_with_connective(first):
            penalty += 25.0
        if tx.starts_with_dangling_pronoun(first):
            penalty += 12.0
        if self.filler_kinds[idx]:
            penalty += 40.0
        if len(tx.words(first)) < 4:
            penalty += 10.0
        return max(0.0, min(100.0, pts - penalty)), first

    def emotion(self, c: Candidate, text: str) -> float:
        toks = tx.words(text)
        n = max(1, len(toks))
        density = 100.0 * sum(1 for t in toks if t in tx.EMOTION_WORDS) / n
        exclaim = text.count("!")
        text_part = 60.0 * _clip01(density / 5.0) + 15.0 * _clip01(exclaim / 2.0)
        stats = self.energy.stats(c.start, c.end) if self.energy else None
        if stats is None:
            return min(100.0, text_part * 100.0 / 75.0)
        mean_db, std_db = stats
        assert self.energy is not None
        dynamics = std_db / self.energy.std
        loud = mean_db - self.energy.mean
        audio_part = 25.0 * _clip01(0.5 * (dynamics - 0.7) / 0.6 + 0.5 * (loud + 3.0) / 6.0)
        return min(100.0, text_part + audio_part)

    def value(self, c: Candidate, text: str) -> float:
        n = max(1, len(tx.words(text)))
        density = 100.0 * tx.count_phrases(text, tx.INSIGHT_PHRASES) / n
        sims = sorted((float(self.insight_sims[i]) for i in self._sent_range(c)), reverse=True)[:2]
        sem = float(np.mean(sims)) if sims else 0.0
        pts = 45.0 * _clip01(density / 3.0) + 10.0 * tx.has_number(text) + 45.0 * _clip01((sem - 0.1) / 0.4)
        return min(100.0, pts)

    def self_contained(self, c: Candidate) -> float:
        first, last = self.sentences[c.first_sentence].text, self.sentences[c.last_sentence].text
        pts = 100.0
        if tx.starts_with_connective(tx.clean_sentence(first) if tx.is_trivial(first) else first):
            pts -= 30.0
        if tx.starts_with_dangling_pronoun(first):
            pts -= 20.0
        if not last.rstrip().endswith((".", "?", "!")):
            pts -= 25.0
        if tx.is_trivial(first) or tx.is_trivial(last):
            pts -= 15.0
        vecs = self.sent_vecs[c.first_sentence: c.last_sentence + 1]
        if len(vecs) > 1:
            coherence = float((vecs @ embeddings.unit_mean(vecs)).mean())
            pts -= 30.0 * _clip01((0.7 - coherence) / 0.3)
        # Topic carrying across an edge means the clip starts/ends mid-story.
        if c.first_sentence > 0:
            prev = float(self.sent_vecs[c.first_sentence - 1] @ self.sent_vecs[c.first_sentence])
            pts -= 15.0 * _clip01((prev - 0.3) / 0.3)
        if c.last_sentence + 1 < len(self.sentences):
            nxt = float(self.sent_vecs[c.last_sentence] @ self.sent_vecs[c.last_sentence + 1])
            pts -= 15.0 * _clip01((nxt - 0.3) / 0.3)
        # A clip running from one topic (chapter) into the next tells neither story whole.
        if any(c.first_sentence < ch.first_sentence <= c.last_sentence for ch in self.transcript.chapters):
            pts -= CROSS_TOPIC_PENALTY
        return max(0.0, pts)

    def pacing(self, c: Candidate, words: list[Word]) -> float:
        if len(words) < 2:
            return 0.0
        span = max(0.1, words[-1].end - words[0].start)
        wps = len(words) / span
        lo, hi = IDEAL_WPS
        band = 1.0 if lo <= wps <= hi else _clip01(1 - (lo - wps) / 1.1) if wps < lo else _clip01(1 - (wps - hi) / 1.4)
        gaps = np.array([b.start - a.end for a, b in itertools.pairwise(words)])
        excess = float(np.clip(gaps - 0.6, 0, None).sum()) / span
        long_pauses = int((gaps > 1.5).sum())
        return max(0.0, 70.0 * band + 30.0 * _clip01(1 - 4.0 * excess) - 10.0 * long_pauses)

    # -- one candidate --
    def features(self, c: Candidate) -> ClipFeatures:
        words = self._words(c)
        text = " ".join(self.sentences[i].text for i in self._sent_range(c))
        hook, hook_sentence = self.hook(c, words)
        sub = SubScores(
            hook=round(hook, 1),
            emotion=round(self.emotion(c, text), 1),
            value=round(self.value(c, text), 1),
            self_contained=round(self.self_contained(c), 1),
            pacing=round(self.pacing(c, words), 1),
        )
        kinds = [self.filler_kinds[i] for i in self._sent_range(c) if self.filler_kinds[i]]
        vecs = self.sent_vecs[c.first_sentence: c.last_sentence + 1]
        centroid = embeddings.unit_mean(vecs)
        order = np.argsort(-(vecs @ centroid), kind="stable")
        central = next(
            (self.sentences[c.first_sentence + int(i)].text for i in order
             if self.sentences[c.first_sentence + int(i)].text != hook_sentence),
            hook_sentence,
        )
        topic_sims = self.topic_vecs @ centroid
        best = int(np.argmax(topic_sims))
        topic = self.topic_names[best] if float(topic_sims[best]) >= 0.15 else None
        return ClipFeatures(
            sub=sub,
            filler_kind=kinds[0] if kinds else None,
            hook_sentence=hook_sentence,
            central_sentence=central,
            keywords=self.keywords.keywords(text, k=4),
            topic=topic,
            hook_index=next(i for i in self._sent_range(c) if self.sentences[i].text == hook_sentence),
            value_index=self.value_sentence(c),
        )

    def score(self, c: Candidate) -> ScoredClip:
        f = self.features(c)
        total = sum(getattr(f.sub, k) * w for k, w in WEIGHTS.items())
        if f.filler_kind:
            total *= FILLER_FACTOR
        score = round(min(100.0, max(0.0, total)))
        return ScoredClip(
            candidate=c,
            virality_score=score,
            sub_scores=f.sub,
            reason=make_reason(f.sub, score, f.filler_kind),
            title=tx.make_title(f.hook_sentence, f.keywords),
            description=tx.make_description(f.central_sentence),
            hashtags=tx.make_hashtags(f.keywords[:3], f.topic),
            is_filler=f.filler_kind is not None,
            quotes=[self.quote("hook", f.hook_index), self.quote("value", f.value_index)],
        )


def sentence_filler_kinds(sentences: Sequence[Sentence]) -> list[str | None]:
    """Each sentence's filler kind; a trivial sentence ("Okay.") next to filler belongs to that filler."""
    kinds = [tx.filler_kind(s.text) for s in sentences]
    for i, s in enumerate(sentences):
        if kinds[i] is None and tx.is_trivial(s.text):
            near = [kinds[j] for j in (i - 1, i + 1) if 0 <= j < len(kinds) and kinds[j]]
            if near:
                kinds[i] = near[0]
    return kinds


def make_reason(sub: SubScores, score: int, filler_kind: str | None) -> str:
    """One sentence naming the strongest sub-scores (or why the clip is filler)."""
    if filler_kind:
        return f"Scores {score} because it contains filler ({filler_kind}), which viewers skip."
    ranked = sorted(SUB_PHRASES, key=lambda k: (-(getattr(sub, k) - TYPICAL[k]), list(SUB_PHRASES).index(k)))
    a, b = ranked[0], ranked[1]
    return (
        f"Scores {score} mainly for {SUB_PHRASES[a]} ({getattr(sub, a):.0f}) "
        f"and {SUB_PHRASES[b]} ({getattr(sub, b):.0f})."
    )


def score_local(
    transcript: Transcript, sentences: Sequence[Sentence], candidates: Sequence[Candidate], audio: Path | None
) -> list[ScoredClip]:
    """Score every candidate with the local scorer (same order as `candidates`)."""
    if not candidates:
        return []
    scorer = LocalScorer(transcript, sentences, audio)
    return [scorer.score(c) for c in candidates]
