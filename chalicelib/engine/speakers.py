"""Who is speaking: a speaker label per word and per sentence from the face tracks' mouth activity.

Each person on screen (a face track seen in enough samples) is named S1, S2, ... from left to right.
A track's mouth activity (tracks.py) is normalised by its own level during speech, so a face whose
mouth moves little still counts; a word goes to the track whose mouth moved most while it was heard
(its own span, padded a little), and a sentence to the track with the most activity over its words.
No audio speaker embedding is used: no PyPI package ships usable weights without torch (see README).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .tracks import FaceTrack, valid_tracks
from .types import Sentence, Word

WORD_PAD = 0.12  # seconds of context either side of a word's span
SENTENCE_WEIGHT = 0.35  # share of the sentence's evidence mixed into each word's vote


@dataclass
class Speakers:
    """The people of one clip and what each word and sentence was labelled."""

    tracks: dict[str, FaceTrack]  # label -> track, left to right
    words: list[str | None]  # per word (None: nobody on screen)
    sentences: list[str | None]  # per sentence


def _activity(times: list[float], mouth: list[dict[int, float]], ids: list[int], speech: np.ndarray) -> np.ndarray:
    """Activity matrix (track x time), each row divided by its 90th percentile during speech."""
    act = np.full((len(ids), len(times)), np.nan)
    for j, values in enumerate(mouth):
        for i, tid in enumerate(ids):
            if tid in values:
                act[i, j] = values[tid]
    for i in range(len(ids)):
        row = act[i][speech & ~np.isnan(act[i])]
        ref = float(np.percentile(row, 90)) if row.size else 0.0
        act[i] = act[i] / ref if ref > 1e-6 else np.where(np.isnan(act[i]), np.nan, 0.0)
    return act


def label_speakers(
    tracks: list[FaceTrack],
    n_samples: int,
    mouth_times: list[float],
    mouth: list[dict[int, float]],
    words: list[Word],
    sentences: list[Sentence],
) -> Speakers:
    """Label `words` (clip seconds) and `sentences` (indices into words) with S1, S2, ... (or None)."""
    people = valid_tracks(tracks, n_samples)
    named = {f"S{i + 1}": t for i, t in enumerate(people)}
    labels = list(named)
    if not people:
        return Speakers(named, [None] * len(words), [None] * len(sentences))
    if len(people) == 1 or not mouth_times:
        return Speakers(named, [labels[0]] * len(words), [labels[0]] * len(sentences))
    times = np.asarray(mouth_times)
    speech = np.zeros(len(times), dtype=bool)
    for w in words:
        speech |= (times >= w.start) & (times <= w.end)
    act = _activity(mouth_times, mouth, [t.id for t in people], speech)
    scores = np.zeros((len(words), len(people)))
    for k, w in enumerate(words):
        sel = (times >= w.start - WORD_PAD) & (times <= w.end + WORD_PAD)
        if not sel.any():  # a very short word between measurements: the nearest one
            sel = np.abs(times - (w.start + w.end) / 2) == np.min(np.abs(times - (w.start + w.end) / 2))
        with warnings.catch_warnings():  # a track not measured during this word: no evidence (0)
            warnings.simplefilter("ignore", RuntimeWarning)
            scores[k] = np.nan_to_num(np.nanmean(act[:, sel], axis=1), nan=0.0)
    sentence_labels: list[str | None] = []
    mixed = scores.copy()
    for s in sentences:
        span = scores[s.first_word : s.last_word + 1]
        total = span.sum(axis=0)
        sentence_labels.append(labels[int(np.argmax(total))] if total.max() > 0 else None)
        norm = total / max(1, len(span))
        mixed[s.first_word : s.last_word + 1] = (1 - SENTENCE_WEIGHT) * span + SENTENCE_WEIGHT * norm
    word_labels: list[str | None] = [labels[int(np.argmax(m))] if m.max() > 0 else None for m in mixed]
    return Speakers(named, word_labels, sentence_labels)
