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
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from ..settings import Settings
from . import embeddings
from .score import text as tx
from .score.local import LocalScorer, sentence_filler_kinds
from .segment import cut_points
from .types import Candidate, ScoredClip, Sentence, Transcript

log = logging.getLogger(__name__)

SEM_WEIGHT, LEX_WEIGHT = 0.65, 0.35
SEM_LO, SEM_HI = 0.12, 0.5  # cosine similarity mapped linearly to 0..1 between these
SINGLE_KEEP = 0.85  # single-moment requests keep windows within this share of the best relevance
RERANK_TOP = 8
TOPIC_SIM = 0.4  # a neighbour this close to the window centroid belongs to the same topic

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


def _grow(
    seed: int, rel: np.ndarray, sentences: Sequence[Sentence], vecs: np.ndarray, used: np.ndarray,
    filler: Sequence[bool], min_duration: float, max_duration: float, keep: float,
) -> tuple[int, int] | None:
    """Grow [seed, seed] to sentence boundaries within [min_duration, max_duration].

    1. over unused neighbours (the more relevant and on-topic first) until min_duration is reached;
    2. over neighbours that are relevant (>= keep), bridging one weaker sentence between relevant ones;
    3. over neighbours on the same topic as the window (a story's opening line).
    Filler sentences are only ever included when the seed itself is filler.
    """
    first = last = seed
    n = len(sentences)

    def fits(j: int) -> bool:
        a, b = min(first, j), max(last, j)
        return 0 <= j < n and not used[j] and sentences[b].end - sentences[a].start <= max_duration

    def centroid() -> np.ndarray:
        return embeddings.unit_mean(vecs[first: last + 1])

    def pick(ok: Callable[[int], bool]) -> int | None:
        opts = [j for j in (first - 1, last + 1) if fits(j) and ok(j)]
        if not opts:
            return None
        c = centroid()
        # The more relevant and the more on-topic neighbour first; later on ties.
        return min(opts, key=lambda j: (-round(float(rel[j]) + float(vecs[j] @ c), 9), -j))

    def on_topic(j: int) -> bool:
        return float(vecs[j] @ centroid()) >= TOPIC_SIM

    allowed = (lambda j: True) if filler[seed] else (lambda j: not filler[j])
    while sentences[last].end - sentences[first].start < min_duration:
        j = pick(allowed)
        if j is None:
            return None
        first, last = min(first, j), max(last, j)
    def relevant(j: int) -> bool:
        # Relevant itself, or a one-sentence bridge to a relevant sentence just beyond it.
        beyond = j + (1 if j > last else -1)
        if rel[j] >= keep:
            return True
        return 0 <= beyond < n and rel[beyond] >= keep and fits(beyond) and allowed(beyond)

    while (j := pick(lambda j: allowed(j) and relevant(j))) is not None:
        first, last = min(first, j), max(last, j)
    while (j := pick(lambda j: allowed(j) and on_topic(j))) is not None:
        first, last = min(first, j), max(last, j)
    return first, last


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
    multi = is_multi(prompt)
    wants_filler = bool(FILLER_REQUEST_RE.search(prompt.lower()))

    used = np.zeros(len(sentences), dtype=bool)
    windows: list[_Window] = []
    seed_floor = 0.8 * threshold
    for seed in sorted(range(len(sentences)), key=lambda i: (-round(float(rel_own[i]), 9), i)):
        if rel_own[seed] < seed_floor or len(windows) >= 4 * max_clips:
            break
        if used[seed] or (filler[seed] and not wants_filler):
            continue
        keep = max(seed_floor, 0.6 * float(rel_own[seed]))
        span = _grow(seed, rel, sentences, vecs, used, filler, min_duration, max_duration, keep)
        if span is None:
            continue
        a, b = span
        used[a: b + 1] = True
        windows.append(_Window(a, b, float(0.7 * rel_own[a: b + 1].max() + 0.3 * rel[a: b + 1].mean())))

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
        clip.prompt = prompt
        out.append(clip)
    return out, None


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
    out = [_Window(w.first, w.last, judged[i]) for i, w in enumerate(windows)]
    return sorted(out, key=lambda w: (-w.relevance, w.first))
