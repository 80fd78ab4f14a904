"""Harness for local fake platform servers: a real ThreadingHTTPServer on 127.0.0.1 in a thread.

Each fake subclasses FakeServer and implements `handle(req) -> Reply | None` (None = drop the connection
without answering, which is how a "dropped chunk" is simulated). A TokenBook plays the OAuth server:
it issues access tokens, can expire the current one after N authorised calls (mid-flow expiry), and
exchanges refresh tokens for new access tokens.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import av


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.startswith("Bearer ") else None


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON; bytes as is
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class TokenBook:
    """Access/refresh tokens of one fake platform."""

    access_token: str = "at-1"
    refresh_token: str = "rt-1"
    expire_after: int | None = None  # expire the current access token after this many authorised calls
    rotate_refresh: bool = False
    scopes: frozenset[str] = frozenset()  # what the grant covers (each fake checks the scope per call)
    valid: set[str] = field(default_factory=set)
    uses: int = 0
    refreshes: int = 0

    def __post_init__(self) -> None:
        self.valid.add(self.access_token)

    def authorize(self, token: str | None) -> bool:
        if token is None or token not in self.valid:
            return False
        if self.expire_after is not None and self.uses >= self.expire_after:
            self.valid.discard(token)
            self.expire_after = None
            return False
        self.uses += 1
        return True

    def allows(self, *any_of: str) -> bool:
        """Whether the grant holds one of the scopes a call accepts."""
        return bool(self.scopes & set(any_of))

    def refresh(self, refresh_token: str | None) -> dict[str, Any] | None:
        if refresh_token != self.refresh_token:
            return None
        self.refreshes += 1
        self.access_token = f"at-{self.refreshes + 1}"
        self.valid.add(self.access_token)
        if self.rotate_refresh:
            self.refresh_token = f"rt-{self.refreshes + 1}"
        return {"access_token": self.access_token, "refresh_token": self.refresh_token}


def probe_bytes(data: bytes) -> dict[str, Any] | None:
    """Decode the container with PyAV like a platform's transcoder would: duration, size; None if broken."""
    try:
        with av.open(io.BytesIO(data)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            duration = float(container.duration or 0) / av.time_base
            return {"width": stream.width, "height": stream.height, "duration": duration, "frames": frames}
    except (av.error.FFmpegError, IndexError, ValueError):
        return None


class FakeServer:
    """Base class: start()/stop() (or use as a context manager); `url` is the base URL."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.log: list[tuple[str, str]] = []  # (method, path) of every request
        self.on_request: Callable[[Request], None] | None = None  # observer, called before handling
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with fake.lock:
                    fake.log.append((req.method, req.path))
                if fake.on_request is not None:
                    fake.on_request(req)
                reply = fake.handle(req)
                if reply is None:  # simulate a dropped connection: no status line at all
                    self.close_connection = True
                    return
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    payload = json.dumps(payload).encode()
                    reply.headers.setdefault("Content-Type", "application/json; charset=UTF-8")
                payload = payload or b""
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, req: Request) -> Reply | None:
        raise NotImplementedError
