"""Topic segmentation: TextTiling over MiniLM sentence embeddings, with depth scoring.

At every gap between two sentences the cosine similarity of the sentence blocks on either side (BLOCK
sentences each, the mean of their all-MiniLM-L6-v2 embeddings) measures how much the talk stays on one
subject. A gap's depth is how far that similarity dips below the nearest peaks on its left and right
(Hearst's TextTiling); a long pause at the gap adds a little depth. Gaps deeper than the mean depth minus
half its standard deviation (the classic cutoff, floored at MIN_DEPTH) become boundaries, deepest first,
as long as every chapter keeps at least MIN_CHAPTER_SECONDS. Each chapter gets a short title from its
most distinctive words (tf-idf against the rest of the talk), in the talk's own words and language.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from . import embeddings
from .score import text as tx
from .types import Chapter, Sentence

__all__ = ["Chapter", "chapter_of", "segment_topics"]

BLOCK = 3  # sentences per side compared at a gap
MIN_DEPTH = 0.08  # shallower dips are never boundaries
MIN_CHAPTER_SECONDS = 15.0
PAUSE_WEIGHT = 0.15  # depth added per second of silence at the gap (capped at PAUSE_CAP seconds)
PAUSE_CAP = 2.0
TITLE_WORDS = 3


def gap_similarities(vecs: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Cosine similarity of the `block` sentences before and after each of the len(vecs)-1 gaps."""
    n = len(vecs)
    sims = np.zeros(max(0, n - 1))
    for g in range(n - 1):
        left = embeddings.unit_mean(vecs[max(0, g - block + 1): g + 1])
        right = embeddings.unit_mean(vecs[g + 1: g + 1 + block])
        sims[g] = float(left @ right)
    return sims


def depth_scores(sims: np.ndarray) -> np.ndarray:
    """TextTiling depth of each gap: (left peak - sim) + (right peak - sim), peaks found by hill climbing."""
    depths = np.zeros(len(sims))
    for g, s in enumerate(sims):
        left = s
        for v in sims[g::-1]:
            if v < left:
                break
            left = v
        right = s
        for v in sims[g:]:
            if v < right:
                break
            right = v
        depths[g] = (left - s) + (right - s)
    return depths


def boundaries(sentences: Sequence[Sentence], vecs: np.ndarray) -> list[int]:
    """Sorted gap indexes g (a chapter ends after sentence g) chosen by depth."""
    n = len(sentences)
    if n < 2:
        return []
    depths = depth_scores(gap_similarities(vecs))
    pauses = np.array([min(PAUSE_CAP, max(0.0, sentences[g + 1].start - sentences[g].end)) for g in range(n - 1)])
    depths = depths + PAUSE_WEIGHT * pauses * (depths > 0)
    cutoff = max(MIN_DEPTH, float(depths.mean() - depths.std() / 2))
    chosen: list[int] = []
    for g in sorted(range(n - 1), key=lambda g: (-round(float(depths[g]), 9), g)):
        if depths[g] < cutoff:
            break
        edges = sorted([*chosen, g])
        starts = [0] + [e + 1 for e in edges]
        ends = [*edges, n - 1]
        if all(sentences[b].end - sentences[a].start >= MIN_CHAPTER_SECONDS for a, b in zip(starts, ends, strict=True)):
            chosen = edges
    return chosen


def _title(texts: Sequence[str], doc_freq: Counter[str], n_docs: int) -> str:
    """The chapter's TITLE_WORDS most distinctive content words (tf-idf), in order of first use."""
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for w in (w for t in texts for w in tx.content_words(t)):
        counts[w] += 1
        first_seen.setdefault(w, len(first_seen))
    if not counts:
        return ""
    score = {w: c * math.log((1 + n_docs) / (1 + doc_freq[w])) + 1e-3 * c for w, c in counts.items()}
    best = sorted(score, key=lambda w: (-score[w], first_seen[w]))[:TITLE_WORDS]
    return tx.title_case(" ".join(sorted(best, key=lambda w: first_seen[w])))


def segment_topics(sentences: Sequence[Sentence], vecs: np.ndarray | None = None) -> list[Chapter]:
    """The talk split into chapters covering every sentence in order (none for an empty talk)."""
    sentences = list(sentences)
    if not sentences:
        return []
    if vecs is None:
        vecs = embeddings.embed([s.text for s in sentences])
    edges = boundaries(sentences, vecs)
    starts = [0] + [e + 1 for e in edges]
    ends = [*edges, len(sentences) - 1]
    groups = [[s.text for s in sentences[a: b + 1]] for a, b in zip(starts, ends, strict=True)]
    doc_freq: Counter[str] = Counter(w for g in groups for w in {w for t in g for w in tx.content_words(t)})
    return [
        Chapter(sentences[a].start, sentences[b].end, a, b, _title(g, doc_freq, len(groups)))
        for a, b, g in zip(starts, ends, groups, strict=True)
    ]


def chapter_of(chapters: Sequence[Chapter], sentence: int) -> int:
    """Index of the chapter holding sentence index `sentence`."""
    for i, c in enumerate(chapters):
        if c.first_sentence <= sentence <= c.last_sentence:
            return i
    raise ValueError(f"sentence {sentence} is in no chapter")
