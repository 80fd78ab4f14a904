"""Prompt clipping: find the moments of a transcript that match a natural-language request.

Hybrid retrieval over sentences and their 3-sentence passages: BM25 (rank_bm25) with query-term coverage
for the lexical side, all-MiniLM-L6-v2 cosine similarity for the semantic side, fused as a normalised
weighted sum into a relevance in 0-1. Clips grow from the most relevant sentences to sentence boundaries
within [min_duration, max_duration], never overlap, and carry the prompt, their relevance and the local
scorer's virality sub-scores. Requests like "every time they mention X" return every matching moment; others
return the best one(s). When an LLM backend is configured it re-ranks the top windows (local order kept on
any failure). Nothing above `settings.prompt_min_relevance` gives zero clips and a human-readable reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from ..settings import Settings
from . import embeddings, topics
from .score import text as tx
from .score.local import LocalScorer, sentence_filler_kinds
from .segment import cut_points
from .topics import Chapter
from .types import Candidate, ScoredClip, Sentence, Transcript

log = logging.getLogger(__name__)

SEM_WEIGHT, LEX_WEIGHT = 0.65, 0.35
SEM_LO, SEM_HI = 0.12, 0.5  # cosine similarity mapped linearly to 0..1 between these
SINGLE_KEEP = 0.85  # single-moment requests keep windows within this share of the best relevance
RERANK_TOP = 8
FLOOR_SHARE = 0.6  # sentences below this share of the seed's keep level count against a window
EDGE_BONUS = 1.5  # window score for starting or ending on a topic boundary (relevance x seconds)
PAUSE_BONUS = 0.5  # window score per second of pause at its edges (capped at 2 s each)

# Requests that target the parts normally treated as filler (only then may a clip be built from filler).
FILLER_REQUEST_RE = re.compile(
    r"\b(sponsor\w*|ad read|advert\w*|promo\w*|intro\w*|outro\w*|greeting\w*|welcome|subscribe|"
    r"housekeeping|goodbye|sign[- ]?off|ending|opening)\b"
)
MULTI_RE = re.compile(
    r"\b(every|each|any) ?time\b|\bwhenever\b|\ball (of )?(the )?(times|mentions|moments|parts|places)\b"
    r"|\bevery (mention|moment|part)\b|\beach mention\b|\banytime\b"
)


@dataclass
class _Window:
    first: int
    last: int
    relevance: float
    keep: float = 0.0  # the relevance a sentence needed to count as matched


def _terms(text: str) -> list[str]:
    return [tx.stem(w) for w in tx.content_words(text)]


def _query_terms(prompt: str) -> list[str]:
    return [tx.stem(w) for w in tx.content_words(prompt) if w not in tx.PROMPT_META]


def is_multi(prompt: str) -> bool:
    """Does the request ask for every occurrence ("every time they mention X")?"""
    return bool(MULTI_RE.search(prompt.lower()))


# Query expansion for requests whose wording rarely appears in the talk itself ("the funniest story").
EXPANSIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(funn|hilari|laugh|comed|joke)"),
     "a funny, embarrassing story where everything went wrong and everyone laughed"),
    (re.compile(r"\b(sad|saddest|emotional|moving|touching|cry)"),
     "an emotional, sad moment that made people cry"),
    (re.compile(r"\b(advice|tips?|lessons?|takeaways?)\b"), "here is my advice and the lesson I learned"),
    (re.compile(r"\b(surpris|shock|unexpected|crazy|craziest)"), "a surprising, shocking thing nobody expected"),
    (re.compile(r"\bstor(y|ies)\b"), "let me tell you a story about what happened to me"),
    (re.compile(r"\b(sponsor|ad read|advert|promo)"), "this video is sponsored by a company, use my promo code"),
    (re.compile(r"\b(intro|greeting|welcome)"), "hi everyone, welcome back to the channel"),
    (re.compile(r"\b(outro|goodbye|sign[- ]?off)"), "thanks for watching, see you next time, bye"),
)


def _lexical(token_docs: Sequence[list[str]], qterms: Sequence[str], idf: dict[str, float]) -> np.ndarray:
    """BM25 over `token_docs`, scaled to 0-1 and weighted by the idf share of query terms each doc contains."""
    bm25 = BM25Okapi([d or ["\u2205"] for d in token_docs])
    scores = np.clip(np.asarray(bm25.get_scores(list(qterms)), dtype=float), 0.0, None)
    top = float(scores.max()) if len(scores) else 0.0
    total = sum(idf[t] for t in qterms)
    out = np.zeros(len(token_docs))
    for i, doc in enumerate(token_docs):
        present = set(doc)
        coverage = sum(idf[t] for t in qterms if t in present) / total
        out[i] = coverage * (scores[i] / top if top > 0 else 0.0)
    return out


def sentence_relevance(sentences: Sequence[Sentence], prompt: str) -> tuple[np.ndarray, np.ndarray]:
    """Fused relevance (0-1) of each sentence to the prompt: (in context of its neighbours, on its own).

    The neighbours help a sentence only if it is somewhat relevant itself.
    """
    n = len(sentences)
    vecs = embeddings.embed([s.text for s in sentences])
    low = prompt.lower()
    core = " ".join(w for w in tx.words(prompt) if w not in tx.PROMPT_META and w not in tx.STOPWORDS)
    queries = [prompt] + ([core] if core and core != low else [])
    queries += [text for pattern, text in EXPANSIONS if pattern.search(low)]
    q = embeddings.embed(queries)
    passages = np.stack([vecs[max(0, i - 1): i + 2].mean(axis=0) for i in range(n)])
    passages /= np.clip(np.linalg.norm(passages, axis=1, keepdims=True), 1e-9, None)
    own = (vecs @ q.T).max(axis=1)
    ctx = (passages @ q.T).max(axis=1)
    sem = np.maximum(own, 0.5 * (own + ctx))
    sem_cal = np.clip((sem - SEM_LO) / (SEM_HI - SEM_LO), 0.0, 1.0)

    qterms = _query_terms(prompt)
    lex = np.zeros(n)
    lex_own = np.zeros(n)
    if qterms:
        sent_docs = [_terms(s.text) for s in sentences]
        passage_docs = [[t for d in sent_docs[max(0, i - 1): i + 2] for t in d] for i in range(n)]
        df = {t: sum(1 for d in sent_docs if t in d) for t in set(qterms)}
        idf = {t: float(np.log((n + 1) / (df[t] + 0.5)) + 1.0) for t in df}
        lex_own = _lexical(sent_docs, qterms, idf)
        lex = np.maximum(lex_own, 0.5 * _lexical(passage_docs, qterms, idf))
    own_cal = np.clip((own - SEM_LO) / (SEM_HI - SEM_LO), 0.0, 1.0)
    return SEM_WEIGHT * sem_cal + LEX_WEIGHT * lex, SEM_WEIGHT * own_cal + LEX_WEIGHT * lex_own


def _run(seed: int, rel: np.ndarray, keep: float, blocked: np.ndarray) -> tuple[int, int]:
    """The contiguous relevant sentences around `seed` (>= keep, not blocked), bridging one weaker one."""
    n = len(rel)
    first = last = seed

    def relevant(j: int, step: int) -> bool:
        if not 0 <= j < n or blocked[j]:
            return False
        if rel[j] >= keep:
            return True
        beyond = j + step
        return 0 <= beyond < n and not blocked[beyond] and rel[beyond] >= keep

    while relevant(first - 1, -1):
        first -= 1
    while relevant(last + 1, 1):
        last += 1
    return first, last


def _snap(
    seed: int, run: tuple[int, int], chapter: Chapter, rel: np.ndarray, sentences: Sequence[Sentence],
    blocked: np.ndarray, keep: float, min_duration: float, max_duration: float,
) -> tuple[int, int] | None:
    """The clip's sentences: the run widened to its topic (chapter), then fitted to the duration bounds.

    Within the bounds or longer: the best window holding the seed (_best_window: relevance above a floor,
    topic edges and long pauses; the whole topic when it fits and is on the subject); shorter than
    min_duration: extended one sentence at a time into the less relevant side (the more relevant
    neighbour may be a moment of its own). None when nothing fits.
    """
    n = len(sentences)
    a, b = min(run[0], chapter.first_sentence), max(run[1], chapter.last_sentence)
    # Never into sentences that are blocked (used by another clip, or filler); trim them off the edges.
    lo, hi = seed, seed
    while lo - 1 >= a and not blocked[lo - 1]:
        lo -= 1
    while hi + 1 <= b and not blocked[hi + 1]:
        hi += 1
    a, b = lo, hi

    def dur(i: int, j: int) -> float:
        return sentences[j].end - sentences[i].start

    if dur(a, b) >= min_duration:
        best = _best_window(seed, a, b, chapter, rel, sentences, FLOOR_SHARE * keep, min_duration, max_duration)
        if best is None:
            return None
        a, b = best
    while dur(a, b) < min_duration:
        opts = [
            j for j in (a - 1, b + 1)
            if 0 <= j < n and not blocked[j] and dur(min(a, j), max(b, j)) <= max_duration
        ]
        if not opts:
            return None
        j = min(opts, key=lambda j: (round(float(rel[j]), 9), -j))
        a, b = min(a, j), max(b, j)
    return a, b


def _best_window(
    seed: int, a: int, b: int, chapter: Chapter, rel: np.ndarray, sentences: Sequence[Sentence], floor: float,
    min_duration: float, max_duration: float,
) -> tuple[int, int] | None:
    """The sentences [i, j] within [a, b] holding `seed` and lasting min..max seconds with the most relevance
    above `floor` per second spoken, plus a bonus for ending on the topic's edges and on long pauses."""
    best: tuple[float, int, int] | None = None
    for i in range(seed, a - 1, -1):
        mass = sum((float(rel[k]) - floor) * (sentences[k].end - sentences[k].start) for k in range(i, seed))
        for j in range(seed, b + 1):
            mass += (float(rel[j]) - floor) * (sentences[j].end - sentences[j].start)
            d = sentences[j].end - sentences[i].start
            if d > max_duration:
                break
            if d < min_duration:
                continue
            edges = (i == chapter.first_sentence) + (j == chapter.last_sentence)
            pauses = _pause_before(sentences, i) + _pause_after(sentences, j)
            score = mass + EDGE_BONUS * edges + PAUSE_BONUS * pauses
            if best is None or score > best[0] + 1e-9:
                best = (score, i, j)
    return None if best is None else (best[1], best[2])


def _pause_before(sentences: Sequence[Sentence], i: int) -> float:
    return min(2.0, sentences[i].start - sentences[i - 1].end) if i > 0 else 2.0


def _pause_after(sentences: Sequence[Sentence], j: int) -> float:
    return min(2.0, sentences[j + 1].start - sentences[j].end) if j + 1 < len(sentences) else 2.0


def matched_reason(prompt: str, sentences: Sequence[Sentence], rel_own: np.ndarray, first: int, last: int,
                   keep: float) -> str:
    """Which sentences of the clip matched the prompt (most relevant first, at most three quoted)."""
    matched = sorted((i for i in range(first, last + 1) if rel_own[i] >= keep), key=lambda i: (-rel_own[i], i))
    if not matched:
        matched = [max(range(first, last + 1), key=lambda i: (rel_own[i], -i))]
    quotes = "; ".join(
        f'#{i + 1} "{_short(sentences[i].text)}" ({float(rel_own[i]):.2f})' for i in matched[:3]
    )
    more = f" and {len(matched) - 3} more" if len(matched) > 3 else ""
    return f'Matches "{prompt}" in sentence{"s" if len(matched) > 1 else ""} {quotes}{more}.'


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "\u2026"


def find_moments(
    transcript: Transcript,
    sentences: Sequence[Sentence],
    prompt: str,
    max_clips: int,
    min_duration: float,
    max_duration: float,
    *,
    settings: Settings,
) -> tuple[list[ScoredClip], str | None]:
    """Clips matching `prompt` (most relevant first) and None, or no clips and the reason why."""
    prompt = " ".join((prompt or "").split())
    if not prompt:
        return [], "The prompt is empty."
    sentences = list(sentences)
    if not sentences:
        return [], "The video has no speech to search."
    threshold = float(settings.prompt_min_relevance)
    rel, rel_own = sentence_relevance(sentences, prompt)
    vecs = embeddings.embed([s.text for s in sentences])
    filler = [k is not None for k in sentence_filler_kinds(sentences)]
    filler_mask = np.array(filler, dtype=bool)
    multi = is_multi(prompt)
    wants_filler = bool(FILLER_REQUEST_RE.search(prompt.lower()))

    chapters = list(transcript.chapters) if _chapters_match(transcript, sentences) else []
    if not chapters:
        chapters = topics.segment_topics(sentences, vecs)
    used = np.zeros(len(sentences), dtype=bool)
    used_chapters: set[int] = set()
    windows: list[_Window] = []
    seed_floor = 0.8 * threshold
    for seed in sorted(range(len(sentences)), key=lambda i: (-round(float(rel_own[i]), 9), i)):
        if rel_own[seed] < seed_floor or len(windows) >= 4 * max_clips:
            break
        if used[seed] or (filler[seed] and not wants_filler):
            continue
        ci = topics.chapter_of(chapters, seed)
        if not multi and ci in used_chapters:
            continue  # one moment per topic unless the request asks for every mention
        keep = max(seed_floor, 0.6 * float(rel_own[seed]))

        blocked = used | (filler_mask & (not filler[seed]))
        run = _run(seed, rel, keep, blocked)
        if any(0 <= j < len(sentences) and used[j] for j in (run[0] - 1, run[1] + 1)):
            continue  # the same moment as a clip already found, seen from its edge
        if multi:  # another mention (a separate run of matching sentences) is a moment of its own
            others = rel_own >= keep
            others[run[0]: run[1] + 1] = False
            blocked = blocked | others
        span = _snap(seed, run, chapters[ci], rel, sentences, blocked, keep, min_duration, max_duration)
        if span is None:
            continue
        a, b = span
        used[a: b + 1] = True
        used_chapters.add(ci)
        windows.append(_Window(a, b, float(0.7 * rel_own[a: b + 1].max() + 0.3 * rel[a: b + 1].mean()), keep))

    best = max((w.relevance for w in windows), default=float(rel_own.max()))
    windows.sort(key=lambda w: (-w.relevance, w.first))
    backend = (settings.scorer or "local").strip().lower()
    if backend in ("openai", "bedrock") and windows:
        windows = _rerank(backend, prompt, windows[:RERANK_TOP], sentences, settings) + windows[RERANK_TOP:]

    keep_windows = [w for w in windows if w.relevance >= threshold]
    if keep_windows and not multi:
        top = keep_windows[0].relevance
        keep_windows = [w for w in keep_windows if w.relevance >= SINGLE_KEEP * top]
    keep_windows = keep_windows[:max_clips]
    if not keep_windows:
        if windows or float(rel_own.max()) < threshold:
            return [], (
                f'Nothing in the video matches "{prompt}" closely enough '
                f"(best relevance {best:.2f}, threshold {threshold:.2f})."
            )
        return [], (
            f'The parts matching "{prompt}" are shorter than the minimum clip length of {min_duration:g} s.'
        )

    scorer = LocalScorer(transcript, sentences, None)
    out: list[ScoredClip] = []
    for w in keep_windows:
        text = " ".join(s.text for s in sentences[w.first: w.last + 1])
        first, last = sentences[w.first], sentences[w.last]
        # Cut like segment.build_candidates does: padded into the surrounding pauses, never into a word;
        # without the pads if they would break max_duration.
        start, end = cut_points(transcript, first.first_word, last.last_word)
        if end - start > max_duration + 1e-6:
            start, end = first.start, last.end
        cand = Candidate(start, end, w.first, w.last, text)
        clip = scorer.score(cand)
        clip.relevance = round(min(1.0, max(0.0, w.relevance)), 3)
        clip.reason = f"{matched_reason(prompt, sentences, rel_own, w.first, w.last, w.keep)} {clip.reason}"
        clip.prompt = prompt
        out.append(clip)
    return out, None


def _chapters_match(transcript: Transcript, sentences: Sequence[Sentence]) -> bool:
    """Do the transcript's stored chapters cover exactly these sentences?"""
    ch = transcript.chapters
    return bool(ch) and ch[0].first_sentence == 0 and ch[-1].last_sentence == len(sentences) - 1


def _rerank(
    backend: str, prompt: str, windows: list[_Window], sentences: Sequence[Sentence], settings: Settings
) -> list[_Window]:
    """The windows re-scored by the LLM (relevance = its judgement), or unchanged on any failure."""
    from .score.llm import LlmError, llm_rerank, safe_error

    passages = [(i, " ".join(s.text for s in sentences[w.first: w.last + 1])) for i, w in enumerate(windows)]
    try:
        judged = llm_rerank(backend, prompt, passages, settings=settings)
    except LlmError as exc:
        log.warning("LLM re-rank (%s) failed: %s; keeping the hybrid ranking", backend, safe_error(exc, settings))
        return windows
    out = [_Window(w.first, w.last, judged[i], w.keep) for i, w in enumerate(windows)]
    return sorted(out, key=lambda w: (-w.relevance, w.first))
