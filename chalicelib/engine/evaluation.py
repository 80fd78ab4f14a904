"""Quality metrics of clip picks against generator-written labels (used by bench/bench_quality.py).

Plain functions over (start, end) spans in seconds, so they are cheap to test and to apply to the
engine's picks and to the baselines alike:

- hook_precision: share of picked clips that hold a whole planted hook sentence;
- filler_rate: share of picked clips holding at least FILLER_SECONDS of planted filler;
- iou / recall_at_iou / boundary_error: a prompt clip against its target topic's span;
- share_in_pauses: share of cut points (clip starts and ends) that fall outside every spoken sentence;
- boundary_f1: chapter boundaries against the true topic boundaries, each matched at most once within
  a tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[float, float]

FILLER_SECONDS = 3.0  # a clip with this much planted filler counts as a filler pick
EDGE_TOLERANCE = 0.5  # a hook sentence this close past a clip edge still counts as inside
PAUSE_TOLERANCE = 0.02  # a cut this close to a sentence's edge is still in the pause


def overlap(a: Span, b: Span) -> float:
    """Seconds shared by two spans."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def iou(a: Span, b: Span) -> float:
    """Intersection over union of two spans (0 when either is empty)."""
    inter = overlap(a, b)
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def contains(clip: Span, inner: Span, tol: float = EDGE_TOLERANCE) -> bool:
    return clip[0] <= inner[0] + tol and inner[1] <= clip[1] + tol


def hook_precision(clips: Sequence[Span], hooks: Sequence[Span]) -> float:
    """Share of `clips` holding a whole hook sentence (0 for no clips)."""
    if not clips:
        return 0.0
    return sum(any(contains(c, h) for h in hooks) for c in clips) / len(clips)


def filler_rate(clips: Sequence[Span], filler: Sequence[Span], min_seconds: float = FILLER_SECONDS) -> float:
    """Share of `clips` with at least `min_seconds` of planted filler (0 for no clips)."""
    if not clips:
        return 0.0
    return sum(sum(overlap(c, f) for f in filler) >= min_seconds for c in clips) / len(clips)


def recall_at_iou(answers: Sequence[Span | None], targets: Sequence[Span], threshold: float = 0.5) -> float:
    """Share of prompts whose first answer overlaps its target with IoU >= threshold (None = no answer)."""
    if not targets:
        return 0.0
    hits = sum(a is not None and iou(a, t) >= threshold for a, t in zip(answers, targets, strict=True))
    return hits / len(targets)


def mean_iou(answers: Sequence[Span | None], targets: Sequence[Span]) -> float:
    if not targets:
        return 0.0
    return sum(iou(a, t) if a is not None else 0.0 for a, t in zip(answers, targets, strict=True)) / len(targets)


def boundary_error(answers: Sequence[Span | None], targets: Sequence[Span]) -> float | None:
    """Mean seconds between an answer's start/end and its target's (answered prompts only; None if none)."""
    errs = [abs(a[0] - t[0]) / 2 + abs(a[1] - t[1]) / 2
            for a, t in zip(answers, targets, strict=True) if a is not None]
    return sum(errs) / len(errs) if errs else None


def in_pause(t: float, speech: Sequence[Span], tol: float = PAUSE_TOLERANCE) -> bool:
    """Is time t outside every spoken span (allowing `tol` at their edges)?"""
    return not any(s + tol < t < e - tol for s, e in speech)


def share_in_pauses(clips: Sequence[Span], speech: Sequence[Span]) -> float:
    """Share of the cut points (each clip's start and end) that fall in a pause (0 for no clips)."""
    cuts = [t for c in clips for t in c]
    return sum(in_pause(t, speech) for t in cuts) / len(cuts) if cuts else 0.0


def boundary_f1(
    predicted: Sequence[float], truth: Sequence[float], tolerance: float = 3.0
) -> tuple[float, float, float]:
    """(precision, recall, F1) of predicted boundary times, each true boundary matched at most once."""
    free = sorted(truth)
    hits = 0
    for p in sorted(predicted):
        best = min(free, key=lambda t: abs(t - p), default=None)
        if best is not None and abs(best - p) <= tolerance:
            free.remove(best)
            hits += 1
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
