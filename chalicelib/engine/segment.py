"""Segmentation: sentences from word timings, and candidate clip windows on sentence boundaries."""

from __future__ import annotations

import math
import re

from .errors import SourceTooShort
from .types import Candidate, ClipOptions, Sentence, Transcript, Word

PAUSE_BOUNDARY = 1.2  # a silence this long ends a sentence even without punctuation
CAPITAL_PAUSE = 0.5  # a shorter pause also ends a sentence when the next word is capitalised
MAX_SENTENCE_SECONDS = 20.0  # longer "sentences" (unpunctuated speech) are split at their longest pause
CUT_PAD = 0.3  # seconds of air kept before the first and after the last word, inside the pause
MIN_PAD = 0.1  # pads shrink to this (or the half pause, if shorter) to fit max_duration

_END = re.compile("[.!?\u2026\u3002\uff01\uff1f]+[\"'\u201d\u2019)\\]]*$")  # incl. ellipsis, CJK stops
_ALWAYS_CAPITAL = frozenset({"I", "I'm", "I've", "I'll", "I'd"})
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e.", "u.s.", "no."})


def _ends_sentence(word: Word) -> bool:
    text = word.text.strip()
    return bool(_END.search(text)) and text.lower() not in _ABBREVIATIONS


def _make(words: list[Word], first: int, last: int) -> Sentence:
    text = " ".join(w.text.strip() for w in words[first : last + 1]).strip()
    return Sentence(text=text, start=words[first].start, end=words[last].end, first_word=first, last_word=last)


def _split_long(words: list[Word], first: int, last: int) -> list[tuple[int, int]]:
    """Split words[first..last] at the longest pause (commas count extra) until each part is short enough."""
    if words[last].end - words[first].start <= MAX_SENTENCE_SECONDS or last == first:
        return [(first, last)]

    def gap_score(i: int) -> float:
        bonus = 0.3 if words[i].text.rstrip().endswith((",", ";", ":", "—", "-")) else 0.0
        return words[i + 1].start - words[i].end + bonus

    middle = (first + last) / 2
    cut = max(range(first, last), key=lambda i: (round(gap_score(i), 2), -abs(i - middle)))  # ties: the middle
    return _split_long(words, first, cut) + _split_long(words, cut + 1, last)


def split_sentences(transcript: Transcript) -> list[Sentence]:
    """Sentences covering every word in order: end punctuation, long pauses, or (fallback) length splits."""
    words = transcript.words
    spans: list[tuple[int, int]] = []
    first = 0
    for i, word in enumerate(words):
        last_word = i == len(words) - 1
        pause = (words[i + 1].start - word.end) if not last_word else 0.0
        capital_next = not last_word and words[i + 1].text.strip()[:1].isupper()
        if (
            last_word
            or _ends_sentence(word)
            or pause >= PAUSE_BOUNDARY
            or (pause >= CAPITAL_PAUSE and capital_next and words[i + 1].text.strip() not in _ALWAYS_CAPITAL)
        ):
            spans.extend(_split_long(words, first, i))
            first = i + 1
    return [_make(words, a, b) for a, b in spans]


def cut_points(transcript: Transcript, first_word: int, last_word: int, pad: float = CUT_PAD) -> tuple[float, float]:
    """Start/end for a clip of words[first_word..last_word]: padded, but never past the middle of the
    pause to the neighbouring word (so a cut never lands inside a word)."""
    words = transcript.words
    w0, w1 = words[first_word], words[last_word]
    lo = (words[first_word - 1].end + w0.start) / 2 if first_word > 0 else 0.0
    hi = (w1.end + words[last_word + 1].start) / 2 if last_word + 1 < len(words) else max(transcript.duration, w1.end)
    start = max(w0.start - pad, lo)
    end = min(w1.end + pad, hi)
    return round(max(start, 0.0), 3), round(end, 3)


def build_candidates(
    transcript: Transcript, sentences: list[Sentence], min_duration: float, max_duration: float
) -> list[Candidate]:
    """Every run of consecutive sentences whose clip (with pads) lasts between min and max seconds."""
    out: list[Candidate] = []
    for i, first in enumerate(sentences):
        for j in range(i, len(sentences)):
            last = sentences[j]
            speech = last.end - first.start
            if speech > max_duration:
                break
            start, end = cut_points(transcript, first.first_word, last.last_word)
            if end - start > max_duration:  # shrink the pads to fit, keeping at least MIN_PAD of air
                keep_end = min(MIN_PAD, end - last.end)
                keep_start = min(MIN_PAD, first.start - start)
                excess = end - start - max_duration
                trim_end = min(excess, end - last.end - keep_end)
                trim_start = min(excess - trim_end, first.start - start - keep_start)
                end -= trim_end
                start += trim_start
                start, end = math.ceil(start * 1000 - 1e-6) / 1000, math.floor(end * 1000 + 1e-6) / 1000
            if end - start > max_duration + 1e-6 or end - start < min_duration - 1e-6:
                continue
            text = " ".join(s.text for s in sentences[i : j + 1])
            out.append(Candidate(start=start, end=end, first_sentence=i, last_sentence=j, text=text))
    return out


def candidates_for(transcript: Transcript, sentences: list[Sentence], options: ClipOptions) -> list[Candidate]:
    """build_candidates within the request's bounds (capped by its platforms); SourceTooShort if none."""
    candidates = build_candidates(transcript, sentences, options.min_duration, options.effective_max_duration)
    if not candidates:
        raise SourceTooShort(
            f"no stretch of speech lasts between {options.min_duration:g} and "
            f"{options.effective_max_duration:g} seconds"
        )
    return candidates
