"""The LLM scoring backends against a real loopback server, and their fallback to the local scorer."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from moto import mock_aws

from chalicelib.engine.score import score_candidates, select_clips
from chalicelib.engine.score.llm import LLM_MAX_CANDIDATES
from chalicelib.engine.types import ScoredClip
from chalicelib.settings import Settings, load_settings

from .conftest import Talk
from .fake_llm import FakeLLM, score_answer

API_KEY = "sk-test-very-secret-key"


def _openai_settings(url: str, timeout: float = 10.0) -> Settings:
    return load_settings(
        environ={}, scorer="openai", llm_base_url=url, llm_api_key=API_KEY, llm_model="fake-model-1",
        llm_timeout_seconds=timeout,
    )


def _dicts(clips: list[ScoredClip]) -> list[dict]:
    return [c.to_dict() for c in clips]


def test_openai_backend_rescores_the_local_shortlist(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    with FakeLLM("ok") as fake:
        result = score_candidates(
            talk.transcript, talk.sentences, talk.candidates, None, settings=_openai_settings(fake.base_url)
        )
    assert len(fake.requests) == 1
    req = fake.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == f"Bearer {API_KEY}"
    assert req["body"]["model"] == "fake-model-1"
    assert req["body"]["response_format"] == {"type": "json_object"}
    sent = json.loads(req["body"]["messages"][-1]["content"].split("Candidates:\n", 1)[1])
    sent_ids = [s["id"] for s in sent]
    # The shortlist is the local scorer's best non-filler candidates.
    ranked = sorted((i for i, s in enumerate(talk_scored) if not s.is_filler),
                    key=lambda i: (-talk_scored[i].virality_score, talk_scored[i].candidate.start,
                                   talk_scored[i].candidate.end))
    assert sent_ids == ranked[:LLM_MAX_CANDIDATES]
    assert all(s["text"] == talk.candidates[s["id"]].text for s in sent)

    expected = {c["id"]: c for c in score_answer(sent)["clips"]}
    for i, clip in enumerate(result):
        assert clip.candidate == talk.candidates[i]
        if i in expected:
            e = expected[i]
            assert clip.virality_score == e["virality_score"]
            assert clip.title == e["title"].strip()
            assert clip.hashtags == e["hashtags"]
            assert clip.reason == e["reason"]
            assert clip.sub_scores.self_contained == 70.5
        else:
            assert clip.to_dict() == talk_scored[i].to_dict()
    best = select_clips(result, 1)[0]
    assert best.virality_score == 93 and "pric" in best.candidate.text.lower()
    assert not any(c.is_filler for c in select_clips(result, 10))


@pytest.mark.parametrize("mode", ["garbage", "badschema", "wrongids", "http500"])
def test_openai_bad_answers_fall_back_to_local(
    mode: str, talk: Talk, talk_scored: list[ScoredClip], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with FakeLLM(mode) as fake:
        result = score_candidates(
            talk.transcript, talk.sentences, talk.candidates, None, settings=_openai_settings(fake.base_url)
        )
    assert len(fake.requests) == 1
    assert _dicts(result) == _dicts(talk_scored)
    assert "using the local scorer" in caplog.text
    assert API_KEY not in caplog.text


def test_openai_timeout_falls_back_to_local(
    talk: Talk, talk_scored: list[ScoredClip], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with FakeLLM("hang") as fake:
        t0 = time.monotonic()
        result = score_candidates(
            talk.transcript, talk.sentences, talk.candidates, None,
            settings=_openai_settings(fake.base_url, timeout=0.5),
        )
        elapsed = time.monotonic() - t0
    assert len(fake.requests) == 1
    assert elapsed < 30  # cut short by the 0.5 s timeout, not the 60 s hang (wide margin: noisy CI)
    assert _dicts(result) == _dicts(talk_scored)
    assert "timed out" in caplog.text and API_KEY not in caplog.text


def test_unreachable_endpoint_falls_back(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    with FakeLLM("ok") as fake:
        url = fake.base_url
    # The server is closed now: connection refused.
    result = score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=_openai_settings(url))
    assert _dicts(result) == _dicts(talk_scored)


def _no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_bedrock_without_credentials_falls_back(
    talk: Talk, talk_scored: list[ScoredClip], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _no_aws_credentials(monkeypatch, tmp_path)
    caplog.set_level(logging.WARNING)
    settings = load_settings(environ={}, scorer="bedrock", llm_timeout_seconds=2.0)
    result = score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=settings)
    assert _dicts(result) == _dicts(talk_scored)
    assert "bedrock call failed (NoCredentialsError)" in caplog.text


def test_bedrock_under_moto_falls_back(
    talk: Talk, talk_scored: list[ScoredClip], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _no_aws_credentials(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    caplog.set_level(logging.WARNING)
    settings = load_settings(environ={}, scorer="bedrock", llm_timeout_seconds=2.0)
    with mock_aws():  # moto has no Bedrock Converse: the call fails
        result = score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=settings)
    assert _dicts(result) == _dicts(talk_scored)
    assert "bedrock call failed" in caplog.text


def test_unknown_scorer_uses_local(talk: Talk, talk_scored: list[ScoredClip]) -> None:
    settings = load_settings(environ={}, scorer="crystal-ball")
    result = score_candidates(talk.transcript, talk.sentences, talk.candidates, None, settings=settings)
    assert _dicts(result) == _dicts(talk_scored)


def test_engine_scoring_does_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "from chalicelib.engine import score, prompt_search\n"
        "from chalicelib.engine.score import llm\n"
        "assert 'boto3' not in sys.modules and 'botocore' not in sys.modules, 'boto3 imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[3])
