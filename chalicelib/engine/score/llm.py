"""LLM scoring and re-ranking: an OpenAI-compatible chat endpoint or Amazon Bedrock (Converse API).

Every call is bounded by `settings.llm_timeout_seconds`, its JSON answer is validated strictly, and any
failure (network, timeout, HTTP error, unparsable or invalid answer) raises LlmError; the callers then
keep the local scorer's results and log why (never the API key or the prompt text).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ...settings import Settings
from ..types import ScoredClip, SubScores, Transcript
from . import text as tx
from .local import FILLER_FACTOR

log = logging.getLogger(__name__)

LLM_MAX_CANDIDATES = 20  # the local scorer's best candidates are the ones sent to the LLM
LLM_MAX_CHARS_PER_CLIP = 1500
LLM_MAX_TOKENS = 4000

SCORE_SYSTEM = (
    "You rate candidate clips cut from a longer talking video for their potential as YouTube Shorts, TikTok "
    "and Instagram Reels. Reply with ONE JSON object and nothing else, of the form "
    '{"clips": [{"id": <int>, "hook": <0-100>, "emotion": <0-100>, "value": <0-100>, '
    '"self_contained": <0-100>, "pacing": <0-100>, "virality_score": <0-100>, "is_filler": <bool>, '
    '"reason": "<one sentence>", "title": "<at most 60 characters>", "description": "<one line>", '
    '"hashtags": ["#tag", "... 3 to 5 tags"]}]} '
    "with exactly one entry per candidate id. hook: how strongly the first 3 seconds grab attention; "
    "emotion: emotional intensity; value: insight or usefulness; self_contained: understandable without the "
    "rest of the video; pacing: energy and rhythm; is_filler: greetings, channel housekeeping, sponsor reads, "
    "rambling or outros."
)
RERANK_SYSTEM = (
    "You find moments in a video transcript that match a viewer's request. Reply with ONE JSON object and "
    'nothing else, of the form {"ranking": [{"id": <int>, "relevance": <0.0-1.0>}]} with exactly one entry '
    "per candidate id; relevance is how well that passage answers the request (0 = unrelated, 1 = exactly it)."
)


class LlmError(Exception):
    """The LLM backend failed or answered something unusable."""


# --- strict answer schemas -----------------------------------------------------------------------------

_HASHTAG_RE = re.compile(r"^#?[A-Za-z0-9_]{2,40}$")
_Score = Annotated[float, Field(ge=0, le=100)]


class _ClipOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int
    hook: _Score
    emotion: _Score
    value: _Score
    self_contained: _Score
    pacing: _Score
    virality_score: Annotated[int, Field(ge=0, le=100)]
    is_filler: bool = False
    reason: str = Field(min_length=3, max_length=400)
    title: str = Field(min_length=2, max_length=tx.TITLE_MAX)
    description: str = Field(min_length=3, max_length=400)
    hashtags: list[str] = Field(min_length=3, max_length=5)

    @field_validator("reason", "title", "description")
    @classmethod
    def _one_line(cls, v: str) -> str:
        v = v.strip()
        if "\n" in v or "\r" in v:
            raise ValueError("must be one line")
        return v

    @field_validator("hashtags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        out: list[str] = []
        for t in tags:
            if not isinstance(t, str) or not _HASHTAG_RE.match(t.strip()):
                raise ValueError(f"bad hashtag {t!r}")
            tag = "#" + t.strip().lstrip("#").lower()
            if tag in out:
                raise ValueError(f"duplicate hashtag {tag}")
            out.append(tag)
        return out


class _ScoreAnswer(BaseModel):
    clips: list[_ClipOut]


class _RankOut(BaseModel):
    id: int
    relevance: Annotated[float, Field(ge=0.0, le=1.0)]


class _RankAnswer(BaseModel):
    ranking: list[_RankOut]


# --- transport -----------------------------------------------------------------------------------------


def _chat_openai(settings: Settings, system: str, user: str) -> str:
    """POST {llm_base_url}/chat/completions in JSON mode; the reply's message content."""
    base = settings.llm_base_url.rstrip("/")
    if not base:
        raise LlmError("llm_base_url is not set")
    headers = {"Content-Type": "application/json"}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key}"
    body = {
        "model": settings.llm_model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "response_format": {"type": "json_object"},
        "temperature": 0,
        "max_tokens": LLM_MAX_TOKENS,
    }
    timeout = float(settings.llm_timeout_seconds)
    try:
        resp = requests.post(
            f"{base}/chat/completions", json=body, headers=headers, timeout=(min(5.0, timeout), timeout),
            allow_redirects=False,
        )
    except requests.Timeout as exc:
        raise LlmError(f"timed out after {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise LlmError(f"request failed ({type(exc).__name__})") from exc
    if resp.status_code != 200:
        raise LlmError(f"HTTP {resp.status_code} from {urlsplit(base).netloc}")
    try:
        data = resp.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmError("response is not an OpenAI chat completion") from exc
    if not isinstance(content, str):
        raise LlmError("completion has no text content")
    return content


def _chat_bedrock(settings: Settings, system: str, user: str) -> str:
    """Amazon Bedrock Converse; the reply's text."""
    # boto3 is imported lazily, here and only here: the engine layer does not import AWS SDKs at module
    # import time, and only deployments that choose scorer=bedrock ever load it.
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    timeout = float(settings.llm_timeout_seconds)
    try:
        client = boto3.client(
            "bedrock-runtime",
            region_name=settings.aws_region,
            config=Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1}),
        )
        resp = client.converse(
            modelId=settings.bedrock_model_id,
            system=[{"text": system}],
            messages=[{"role": "user", "content": [{"text": user}]}],
            inferenceConfig={"temperature": 0.0, "maxTokens": LLM_MAX_TOKENS},
        )
    except (BotoCoreError, ClientError) as exc:
        raise LlmError(f"bedrock call failed ({type(exc).__name__})") from exc
    except Exception as exc:  # e.g. a mocked or partial AWS environment
        raise LlmError(f"bedrock call failed ({type(exc).__name__})") from exc
    try:
        parts = resp["output"]["message"]["content"]
        return "".join(p["text"] for p in parts if "text" in p)
    except (KeyError, TypeError) as exc:
        raise LlmError("bedrock response has no message text") from exc


def _extract_json(content: str) -> Any:
    """The JSON object in a reply (tolerates a ```json fence around it, nothing else)."""
    text = content.strip()
    fence = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, flags=re.S)
    if fence:
        text = fence.group(1)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise LlmError("reply is not valid JSON") from exc


def complete_json(backend: str, settings: Settings, system: str, user: str) -> Any:
    chat = _chat_bedrock if backend == "bedrock" else _chat_openai
    return _extract_json(chat(settings, system, user))


def safe_error(exc: Exception, settings: Settings) -> str:
    """A log-safe description of a failure (the API key masked, one line, bounded)."""
    message = str(exc)
    if settings.llm_api_key:
        message = message.replace(settings.llm_api_key, "***")
    return " ".join(message.split())[:300]


# --- scoring -------------------------------------------------------------------------------------------


def _rank_key(clip: ScoredClip) -> tuple[float, float, float]:
    return (-clip.virality_score, clip.candidate.start, clip.candidate.end)


def _validate_ids(got: Sequence[int], want: set[int]) -> None:
    if len(got) != len(set(got)) or set(got) != want:
        raise LlmError(f"answer covers ids {sorted(set(got))[:30]}, expected {sorted(want)[:30]}")


def llm_score(backend: str, transcript: Transcript, local: list[ScoredClip], *, settings: Settings) -> list[ScoredClip]:
    """Re-score the local scorer's best candidates with the LLM; on any failure return `local` unchanged."""
    del transcript  # the candidates carry their own text
    order = sorted((i for i, s in enumerate(local) if not s.is_filler), key=lambda i: _rank_key(local[i]))
    shortlist = order[:LLM_MAX_CANDIDATES]
    if not shortlist:
        return local
    items = [
        {
            "id": i,
            "duration_seconds": round(local[i].candidate.duration, 1),
            "text": local[i].candidate.text[:LLM_MAX_CHARS_PER_CLIP],
        }
        for i in shortlist
    ]
    user = "Candidates:\n" + json.dumps(items, ensure_ascii=False)
    try:
        raw = complete_json(backend, settings, SCORE_SYSTEM, user)
        answer = _ScoreAnswer.model_validate(raw)
        _validate_ids([c.id for c in answer.clips], set(shortlist))
    except ValidationError as exc:
        log.warning("LLM scorer (%s) answer invalid (%d errors); using the local scorer", backend, exc.error_count())
        return local
    except LlmError as exc:
        log.warning("LLM scorer (%s) failed: %s; using the local scorer", backend, safe_error(exc, settings))
        return local
    out = list(local)
    for c in answer.clips:
        base = local[c.id]
        filler = base.is_filler or c.is_filler
        score = c.virality_score * (FILLER_FACTOR if filler and not base.is_filler else 1.0)
        out[c.id] = ScoredClip(
            candidate=base.candidate,
            virality_score=round(score),
            sub_scores=SubScores(c.hook, c.emotion, c.value, c.self_contained, c.pacing),
            reason=c.reason,
            title=c.title,
            description=c.description,
            hashtags=c.hashtags,
            is_filler=filler,
            relevance=base.relevance,
            prompt=base.prompt,
            quotes=base.quotes,  # the local scorer's evidence spans (the LLM is not asked for spans)
        )
    log.info("LLM scorer (%s) scored %d candidates", backend, len(answer.clips))
    return out


def llm_rerank(
    backend: str, prompt: str, passages: Sequence[tuple[int, str]], *, settings: Settings
) -> dict[int, float]:
    """{id: relevance 0-1} for each passage, judged by the LLM. Raises LlmError on any failure."""
    items = [{"id": i, "text": t[:LLM_MAX_CHARS_PER_CLIP]} for i, t in passages]
    user = f"Request: {prompt}\nCandidates:\n" + json.dumps(items, ensure_ascii=False)
    try:
        answer = _RankAnswer.model_validate(complete_json(backend, settings, RERANK_SYSTEM, user))
    except ValidationError as exc:
        raise LlmError(f"answer invalid ({exc.error_count()} errors)") from exc
    _validate_ids([r.id for r in answer.ranking], {i for i, _ in passages})
    return {r.id: float(r.relevance) for r in answer.ranking}

