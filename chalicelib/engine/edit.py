"""Clip edits: snap a requested source range to pauses between words; the candidate for a chosen window.

Pure and light (no numpy): the API snaps ranges with it; the pipeline scores the window it builds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import InvalidOptions
from .segment import cut_points
from .types import Candidate, Sentence, Transcript

MIN_PAUSE = 0.12  # a gap between words at least this long is a pause a cut may fall in


@dataclass(frozen=True)
class SnappedRange:
    """A requested [start, end] moved to cut points in the pauses around whole words."""

    start: float
    end: float
    first_word: int
    last_word: int
    requested_start: float
    requested_end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def report(self) -> dict[str, dict[str, float]]:
        """What was snapped and by how much (seconds; negative = earlier)."""
        return {
            "start": {"requested": round(self.requested_start, 3), "snapped": self.start,
                      "by": round(self.start - self.requested_start, 3)},
            "end": {"requested": round(self.requested_end, 3), "snapped": self.end,
                    "by": round(self.end - self.requested_end, 3)},
        }


def snap_range(transcript: Transcript, start: float, end: float) -> SnappedRange:
    """The cut points nearest to `start`/`end` that fall in pauses: the clip starts before the word whose
    start is nearest `start` and ends after the word whose end is nearest `end`, among words next to a
    pause (padded like the scorer's cuts, never past the middle of the pause). InvalidOptions if no whole
    word fits."""
    words = transcript.words
    if not words:
        raise InvalidOptions("the source has no words to cut between")
    last = len(words) - 1
    starts = [k for k in range(len(words)) if k == 0 or words[k].start - words[k - 1].end >= MIN_PAUSE]
    ends = [j for j in range(len(words)) if j == last or words[j + 1].start - words[j].end >= MIN_PAUSE]
    first_word = min(starts, key=lambda k: (abs(words[k].start - start), k))
    last_word = min(ends, key=lambda j: (abs(words[j].end - end), -j))
    if last_word < first_word:
        raise InvalidOptions("no whole sentence fits between start and end")
    cut_start, cut_end = cut_points(transcript, first_word, last_word)
    return SnappedRange(cut_start, cut_end, first_word, last_word, start, end)


def window_candidate(transcript: Transcript, sentences: Sequence[Sentence], start: float, end: float) -> Candidate:
    """A candidate for exactly [start, end] (the sentences it touches, its words as text)."""
    first, last = transcript.word_range(start, end)
    touched = [i for i, s in enumerate(sentences) if s.last_word >= first and s.first_word <= last]
    if first > last or not touched:
        raise InvalidOptions("the range holds no words")
    text = " ".join(w.text.strip() for w in transcript.words[first : last + 1])
    return Candidate(start=start, end=end, first_sentence=touched[0], last_sentence=touched[-1], text=text)

