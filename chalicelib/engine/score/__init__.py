"""Stage 4, Score: a virality score, sub-scores, reason, title, description and hashtags per candidate.

Two backends behind `score_candidates`: the local scorer (default; deterministic and offline) and an LLM
(`settings.scorer` = "openai" for any OpenAI-compatible chat endpoint, or "bedrock" for the Bedrock
Converse API), which falls back to the local scorer on any error, timeout or invalid answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ...settings import Settings
from ..types import Candidate, ScoredClip, Sentence, Transcript
from .local import score_local

log = logging.getLogger(__name__)

__all__ = ["assess_quality", "score_candidates", "select_clips"]

# Scores are absolute (a clip's features, not its rank within its talk), so one floor holds for every
# talk: below it the best clip is not one we would post (see the README's "What a score means").
QUALITY_FLOOR = 55


def score_candidates(
    transcript: Transcript,
    sentences: Sequence[Sentence],
    candidates: Sequence[Candidate],
    audio: Path | None,
    *,
    settings: Settings,
) -> list[ScoredClip]:
    """Score every candidate (result order = `candidates` order) with the configured backend."""
    local = score_local(transcript, sentences, candidates, audio)
    backend = (settings.scorer or "local").strip().lower()
    if backend == "local" or not local:
        return local
    if backend not in ("openai", "bedrock"):
        log.warning("unknown scorer %r; using the local scorer", settings.scorer)
        return local
    from .llm import llm_score

    return llm_score(backend, transcript, local, settings=settings)


def _rank_key(clip: ScoredClip) -> tuple[float, float, float, float]:
    # Higher score first; ties: the larger sub-score sum, then earlier, then shorter (fully deterministic).
    c = clip.candidate
    sub = clip.sub_scores
    total = sub.hook + sub.emotion + sub.value + sub.self_contained + sub.pacing
    return (-clip.virality_score, -round(total, 3), c.start, c.end)


def select_clips(scored: Sequence[ScoredClip], max_clips: int) -> list[ScoredClip]:
    """The best `max_clips` clips that do not overlap each other, greedily by score; filler is never chosen.

    Returned best first.
    """
    chosen: list[ScoredClip] = []
    for clip in sorted((s for s in scored if not s.is_filler), key=_rank_key):
        if len(chosen) >= max_clips:
            break
        if any(clip.candidate.overlaps(other.candidate) for other in chosen):
            continue
        chosen.append(clip)
    return chosen


def assess_quality(chosen: Sequence[ScoredClip], floor: int = QUALITY_FLOOR) -> dict[str, object]:
    """{"level": "ok" | "low", "reason", "best_score"}: "low" when no clip, or the best one, is below `floor`."""
    if not chosen:
        return {"level": "low", "best_score": None, "reason": "No clip was found in this video."}
    best = max(chosen, key=lambda c: c.virality_score)
    if best.virality_score >= floor:
        return {"level": "ok", "best_score": best.virality_score,
                "reason": f"The best clip scores {best.virality_score} (at least {floor})."}
    sub = best.sub_scores.to_dict()
    weak = sorted(sub, key=lambda k: (sub[k], k))[:2]
    return {
        "level": "low",
        "best_score": best.virality_score,
        "reason": (
            f"The best clip scores only {best.virality_score} (below {floor}): its weakest parts are "
            + " and ".join(f"{k.replace('_', ' ')} ({sub[k]:.0f})" for k in weak)
            + ". This talk may have few strong standalone moments."
        ),
    }
