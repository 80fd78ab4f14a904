"""The Bedrock backend's success path: a Converse response (validated against botocore's service model
by its Stubber) parsed into scores, titles, reasons, and into prompt re-rank relevances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.engine.prompt_search import find_moments
from chalicelib.engine.score import score_candidates, select_clips
from chalicelib.engine.score.llm import LLM_MAX_CANDIDATES, RERANK_SYSTEM, SCORE_SYSTEM
from chalicelib.engine.types import ScoredClip
from chalicelib.settings import load_settings

from .conftest import MAX_DURATION, MIN_DURATION, Talk
from .fake_llm import score_answer

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def _converse_response(answer: dict[str, Any], fenced: bool = False) -> dict[str, Any]:
    text = json.dumps(answer)
    if fenced:
        text = f"```json\n{text}\n```"
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 1200, "outputTokens": 800, "totalTokens": 2000},
        "metrics": {"latencyMs": 900},
    }


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Stubber]]:
    """A real bedrock-runtime client with a Stubber; boto3.client hands it to the backend."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("bedrock-runtime", region_name="us-east-1")
    stubber = Stubber(client)
    monkeypatch.setattr(boto3, "client", lambda *a, **k: client)
    with stubber:
        yield client, stubber
    stubber.assert_no_pending_responses()


def _expected_params(system: str) -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "system": [{"text": system}],
        "messages": ANY,
        "inferenceConfig": {"temperature": 0.0, "maxTokens": ANY},
    }


def test_bedrock_converse_answer_becomes_scores_titles_reasons(
    talk: Talk, talk_scored: list[ScoredClip], bedrock: tuple[Any, Stubber]
) -> None:
    _, stubber = bedrock
    ranked = sorted((i for i, s in enumerate(talk_scored) if not s.is_filler),
                    key=lambda i: (-talk_scored[i].virality_score, talk_scored[i].candidate.start,
                                   talk_scored[i].candidate.end))[:LLM_MAX_CANDIDATES]
    items = [{"id": i, "duration_seconds": round(talk.candidates[i].duration, 1), "text": talk.candidates[i].text}
             for i in ranked]
    answer = score_answer(items)
    stubber.add_response("converse", _converse_response(answer, fenced=True), _expected_params(SCORE_SYSTEM))
    settings = load_settings(environ={}, scorer="bedrock", bedrock_model_id=MODEL, llm_timeout_seconds=5)
    result = score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=settings)

    expected = {c["id"]: c for c in answer["clips"]}
    assert set(expected) == set(ranked)
    for i, clip in enumerate(result):
        if i in expected:
            e = expected[i]
            assert clip.virality_score == e["virality_score"] and clip.reason == e["reason"]
            assert clip.title == e["title"].strip() and clip.hashtags == e["hashtags"]
            assert clip.sub_scores.hook == e["hook"] and clip.sub_scores.self_contained == 70.5
        else:
            assert clip.to_dict() == talk_scored[i].to_dict()  # not sent: the local result stays
    best = select_clips(result, 1)[0]
    assert best.virality_score == 93 and "pric" in best.candidate.text.lower()


def test_bedrock_rerank_answer_orders_prompt_clips(talk: Talk, bedrock: tuple[Any, Stubber]) -> None:
    _, stubber = bedrock
    prompt = "every time they mention the election"
    local_settings = load_settings(environ={})
    local, _ = find_moments(talk.transcript, talk.sentences, prompt, 5, MIN_DURATION, MAX_DURATION,
                            settings=local_settings)
    assert len(local) == 2
    # The model prefers the later passage (the one about volunteers).
    ranking = {"ranking": [{"id": 0, "relevance": 0.55}, {"id": 1, "relevance": 0.95}]}
    stubber.add_response("converse", _converse_response(ranking), _expected_params(RERANK_SYSTEM))
    settings = load_settings(environ={}, scorer="bedrock", bedrock_model_id=MODEL, llm_timeout_seconds=5)
    clips, reason = find_moments(talk.transcript, talk.sentences, prompt, 5, MIN_DURATION, MAX_DURATION,
                                 settings=settings)
    assert reason is None
    assert [c.relevance for c in clips] == [0.95, 0.55]
    assert clips[0].candidate == local[1].candidate and clips[1].candidate == local[0].candidate
