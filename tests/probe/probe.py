"""Probe a running `klipstar serve` the way issue 13's probe did, from outside: prints one line per check.

    python -m tests.probe.probe [--base-url http://127.0.0.1:8000] [--key ks_…]   (defaults: .klipstar/local.json)

Exit status 0 when every check holds. The URL-guard probes (yt-dlp redirects, media URLs, DNS answers
that change, with production settings) cannot run against `klipstar serve`, which allows private
addresses by design: they live in tests/unit/engine_ingest/test_ytdlp_guard.py and run in the suite.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import requests

Check = Callable[[str, dict[str, str]], str | None]  # None when it holds, else what is wrong


def unknown_methods_are_405(base: str, auth: dict[str, str]) -> str | None:
    parts = urlsplit(base)
    for method in ("TRACE", "CONNECT", "PROPFIND"):
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        conn.request(method, "/v1/projects")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        if r.status != 405 or json.loads(body or b"{}").get("error", {}).get("code") != "method_not_allowed":
            return f"{method} answered {r.status} {body[:80]!r}"
    return None


def deep_json_is_400_and_free(base: str, auth: dict[str, str]) -> str | None:
    before = requests.get(f"{base}/v1/projects", headers=auth, timeout=30)
    body = b'{"video_url": "https://videos.example.com/a.mp4", "metadata": ' + b"[" * 25_000 + b"]" * 25_000 + b"}"
    r = requests.post(f"{base}/v1/projects", data=body, timeout=30,
                      headers={**auth, "Content-Type": "application/json"})
    if r.status_code != 400 or r.json()["error"]["code"] != "invalid_json":
        return f"nested JSON answered {r.status_code} {r.text[:100]}"
    after = requests.delete(f"{base}/v1/projects/proj_probe", headers=auth, timeout=30)
    if before.status_code != 200 or after.status_code != 404:
        return f"a write after the nested JSON answered {after.status_code} (was it charged?)"
    return None


def polling_reads_are_not_limited(base: str, auth: dict[str, str]) -> str | None:
    for i in range(70):
        r = requests.get(f"{base}/v1/projects?limit=1", headers=auth, timeout=30)
        if r.status_code != 200:
            return f"read {i + 1} answered {r.status_code}"
        if not r.headers.get("RateLimit", "").startswith('"reads-minute";') or "RateLimit-Policy" not in r.headers:
            return f"read {i + 1} has RateLimit {r.headers.get('RateLimit')!r}"
    return None


def uploads_can_be_deleted(base: str, auth: dict[str, str]) -> str | None:
    up = requests.post(f"{base}/v1/uploads", headers=auth, timeout=30,
                       json={"filename": "probe.mp4", "content_type": "video/mp4", "size": 3}).json()
    first = requests.delete(f"{base}/v1/uploads/{up['id']}", headers=auth, timeout=30).status_code
    second = requests.delete(f"{base}/v1/uploads/{up['id']}", headers=auth, timeout=30).status_code
    return None if (first, second) == (204, 404) else f"DELETE upload answered {first} then {second}"


def burst_of_fifty_connections(base: str, auth: dict[str, str]) -> str | None:
    parts = urlsplit(base)
    start = threading.Barrier(50)
    results: list[object] = []

    def hit() -> None:
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=60)
        start.wait()
        try:
            conn.request("GET", "/v1/openapi.json")
            results.append(conn.getresponse().status)
        except OSError as exc:
            results.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=hit) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bad = [r for r in results if r != 200]
    return f"{len(bad)} of 50 failed: {bad[:3]}" if bad else None


CHECKS: list[Check] = [unknown_methods_are_405, deep_json_is_400_and_free, polling_reads_are_not_limited,
                       uploads_can_be_deleted, burst_of_fifty_connections]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", default=".klipstar/local.json", help="klipstar serve's state file")
    parser.add_argument("--base-url")
    parser.add_argument("--key")
    args = parser.parse_args(argv)
    state = json.loads(Path(args.state).read_text()) if not (args.base_url and args.key) else {}
    base = args.base_url or state["base_url"]
    auth = {"Authorization": f"Bearer {args.key or state['api_key']}"}
    failed = 0
    for check in CHECKS:
        problem = check(base, auth)
        failed += problem is not None
        print(f"{'FAIL' if problem else 'ok  '} {check.__name__}{': ' + problem if problem else ''}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
