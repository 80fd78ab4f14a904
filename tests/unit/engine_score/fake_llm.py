"""A loopback OpenAI-compatible chat server for the LLM backend tests (http.server on 127.0.0.1)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOPIC_HASHTAGS = {
    "pric": ["#pricing", "#startups", "#founders"],
    "sleep": ["#sleep", "#memory", "#studytips"],
    "election": ["#election", "#politics", "#campaigns"],
}


def _candidates(user: str, marker: str = "Candidates:\n") -> list[dict[str, Any]]:
    return json.loads(user.split(marker, 1)[1])


def score_answer(items: list[dict[str, Any]]) -> dict[str, Any]:
    """What a sensible model would say: topical clips score high, titles and tags from the text."""
    clips = []
    for item in items:
        text = item["text"].lower()
        topic = next((t for t in TOPIC_HASHTAGS if t in text), None)
        score = {"pric": 93, "sleep": 81, "election": 77}.get(topic or "", 35)
        first = item["text"].split(".")[0]
        clips.append({
            "id": item["id"],
            "hook": score - 3, "emotion": 40, "value": score, "self_contained": 70.5, "pacing": 66,
            "virality_score": score,
            "is_filler": False,
            "reason": f"Rated {score} because it opens with a concrete claim about {topic or 'the topic'}.",
            "title": first[:55],
            "description": f"A {item['duration_seconds']:.0f}-second take on {topic or 'this'}.",
            "hashtags": TOPIC_HASHTAGS.get(topic or "", ["#talk", "#ideas", "#shorts"]),
        })
    return {"clips": clips}


def rerank_answer(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ranking": [
        {"id": it["id"], "relevance": 0.97 if "volunteers" in it["text"] else 0.9 if "election" in it["text"] else 0.05}
        for it in items
    ]}


class FakeLLM:
    """mode: ok | hang | garbage | badschema | wrongids | http500."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if fake.mode == "hang":
                    fake.release.wait(60)  # until the test ends: far past any client timeout
                    return
                if fake.mode == "http500":
                    self._send(500, {"error": {"message": "upstream overloaded"}})
                    return
                user = body["messages"][-1]["content"]
                if fake.mode == "garbage":
                    content = "Sure! Here are the scores you asked for: clip one is great, clip two is fine."
                elif "Request:" in user:
                    content = json.dumps(rerank_answer(_candidates(user)))
                else:
                    answer = score_answer(_candidates(user))
                    if fake.mode == "badschema":
                        answer["clips"][0]["title"] = "An Extremely Long Title That Goes On Well Past Sixty Characters!"
                    if fake.mode == "wrongids":
                        answer["clips"] = answer["clips"][1:]
                    content = "```json\n" + json.dumps(answer) + "\n```"
                self._send(200, {
                    "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
                    "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 100, "total_tokens": 200},
                })

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
