"""Issue 13 hardening at the HTTP layer: deeply nested JSON, uploads cleanup, undeclared methods."""

from __future__ import annotations

import logging

import pytest

from chalicelib.api.routing import MAX_JSON_DEPTH, json_depth
from chalicelib.data.models import RateCounter

from .apienv import T0

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("text", "depth"),
    [(b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'{"a": "[[[{{{"}', 1), (b'{"a": "\\"[["}', 1), (b"1", 0)],
)
def test_json_depth_ignores_brackets_in_strings(text: bytes, depth: int) -> None:
    assert json_depth(text) == depth


def test_deeply_nested_json_is_a_400_not_charged_no_traceback(env, caplog: pytest.LogCaptureFixture) -> None:
    key = env.key("nest", "spark")
    env.clock.t = T0 + 50_000
    deep = b'{"video_url": "https://videos.example.com/a.mp4", "metadata": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    with caplog.at_level(logging.INFO):
        for body in (deep, b"[" * 30_000):
            r = env.call("POST", "/v1/projects", key, raw=body, headers=JSON, tick=False)
            assert r.status == 400, r.json
            assert r.json["error"]["code"] == "invalid_json" and str(MAX_JSON_DEPTH) in r.json["error"]["message"]
        r = env.call("POST", "/v1/projects", key, raw=deep, headers={**JSON, "Idempotency-Key": "k1"}, tick=False)
        assert r.status == 400 and r.json["error"]["code"] == "invalid_json"
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text
    minute = int(env.clock.t // 60)
    assert list(RateCounter.batch_get([f"nest#min#{minute}"])) == []  # not charged: Spark's one write is still there
    r = env.call("POST", "/v1/projects", key, {"video_url": "https://videos.example.com/a.mp4"}, tick=False)
    assert r.status == 201
    # a body nested exactly to the limit is parsed normally (here: a 400 naming the field, not invalid_json)
    ok_depth = b'{"metadata": ' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    env.clock.advance(60)
    r = env.call("POST", "/v1/projects", key, raw=ok_depth, headers=JSON, tick=False)
    assert r.status == 400 and r.json["error"]["code"] != "invalid_json"
