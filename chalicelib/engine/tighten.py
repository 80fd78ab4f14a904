"""Tightening: which source ranges of a clip to keep (long silences shortened, filler words cut), and
mapping times from the source onto the cut timeline.

Ranges are source seconds, snapped to the output frame grid (1/30 s from the clip start) so the video
and audio cuts agree to the sample and the output lasts exactly the sum of the kept ranges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .style import FILLER_WORDS, Tighten
from .types import Transcript, Word

Range = tuple[float, float]
FRAME = 1 / 30
MIN_RANGE = 2 * FRAME  # slivers shorter than this are dropped


def is_filler(word: Word) -> bool:
    """um, uh, erm and the like (punctuation and case ignored)."""
    return re.sub(r"[^a-z]", "", word.text.lower()) in FILLER_WORDS


def _snap(t: float, start: float) -> float:
    return start + round((t - start) / FRAME) * FRAME


def keep_ranges(words: list[Word], start: float, end: float, tighten: Tighten) -> list[Range]:
    """The source ranges of [start, end] to keep. `words` are in source seconds.

    Between two kept (non-filler) words, a silence longer than the threshold (fillers not counted) is cut
    down to `pause`, half after the previous word and half before the next; fillers are cut whole.
    """
    inside = sorted((w for w in words if w.end > start and w.start < end), key=lambda w: w.start)
    fillers = [w for w in inside if tighten.remove_filler_words and is_filler(w)]
    kept = [w for w in inside if w not in fillers]
    cuts: list[Range] = []
    edges = [start, *[t for w in kept for t in (w.start, w.end)], end]
    half = tighten.pause / 2
    if not kept:
        return [(start, end)]
    for i in range(0, len(edges), 2):  # gaps: (start, w0.start), (w0.end, w1.start), ..., (wn.end, end)
        a, b = edges[i], edges[i + 1]
        if b <= a:
            continue
        gap_fillers = [f for f in fillers if f.start >= a - 1e-6 and f.end <= b + 1e-6]
        silence = (b - a) - sum(f.end - f.start for f in gap_fillers)
        if tighten.remove_silences and silence > tighten.silence_threshold:
            # keep half a pause on each side (none before the clip's first word or after its last)
            lo = a if i == 0 else min(a + half, gap_fillers[0].start if gap_fillers else b)
            hi = b if i + 2 == len(edges) else max(b - half, gap_fillers[-1].end if gap_fillers else a)
            cuts.append((lo, hi))
        else:
            cuts += [(f.start, f.end) for f in gap_fillers]
    return _complement(cuts, start, end)


def _complement(cuts: list[Range], start: float, end: float) -> list[Range]:
    """[start, end] minus `cuts`, on the frame grid, without slivers."""
    out: list[Range] = []
    pos = start
    for a, b in sorted(cuts):
        a, b = _snap(max(a, start), start), _snap(min(b, end), start)
        if a > pos:
            out.append((pos, a))
        pos = max(pos, b)
    if end > pos:
        out.append((pos, end))
    return [(round(a, 4), round(b, 4)) for a, b in out if b - a >= MIN_RANGE]


def to_output_time(t: float, ranges: list[Range]) -> float:
    """A source time on the cut timeline (0 = first kept frame); times inside a cut snap to the next range."""
    offset = 0.0
    for a, b in ranges:
        if t < a:
            return offset
        if t <= b:
            return offset + (t - a)
        offset += b - a
    return offset


def retime_words(words: list[Word], ranges: list[Range]) -> list[Word]:
    """Words (source seconds) that survive the cut, on the cut timeline."""
    out: list[Word] = []
    for w in words:
        if not any(w.end > a + 1e-6 and w.start < b - 1e-6 for a, b in ranges):
            continue  # cut whole (a filler)
        s, e = to_output_time(w.start, ranges), to_output_time(w.end, ranges)
        out.append(Word(w.text, round(s, 3), round(max(e, s + 0.01), 3), w.probability))
    return out


def total(ranges: list[Range]) -> float:
    return sum(b - a for a, b in ranges)


@dataclass
class Timeline:
    """A clip's output timeline: the kept source ranges (None = all of it), its words and its length."""

    ranges: list[Range] | None
    words: list[Word]  # output seconds
    duration: float

    def to_output(self, t: float, start: float) -> float:
        """A source time on this timeline."""
        return to_output_time(t, self.ranges) if self.ranges else t - start


def clip_timeline(transcript: Transcript, start: float, end: float, tighten: Tighten | None) -> Timeline:
    """The timeline of the clip source[start:end] after tightening (the untouched clip without it)."""
    if tighten is None or not (tighten.remove_silences or tighten.remove_filler_words):
        return Timeline(None, transcript.clip_words(start, end), end - start)
    source_words = transcript.words_between(start, end)
    ranges = keep_ranges(source_words, start, end, tighten)
    words = [Word(w.text.strip(), w.start, w.end, w.probability) for w in retime_words(source_words, ranges)]
    return Timeline(ranges, words, total(ranges))
