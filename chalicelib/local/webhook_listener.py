"""A loopback webhook receiver: verifies each event's signatures (Klipstar-Signature and the Standard
Webhooks headers, both must verify), prints it, answers 2xx (400 when a signature does not verify).

Used by `klipstar webhooks listen` (a `stripe listen`-style helper) and by `klipstar demo`.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, verify_signature, verify_standard

MAX_BODY = 10 * 1024 * 1024


@dataclass
class ReceivedEvent:
    event_id: str | None
    event: dict[str, Any]
    signature_ok: bool  # both signatures verified
    raw: bytes
    signature_header: str = ""
    standard_ok: bool = False  # the Standard Webhooks signature (webhook-id/-timestamp/-signature) verified


class WebhookListener:
    """ThreadingHTTPServer on `host:port` collecting verified events into `events`."""

    def __init__(
        self,
        secret: str,
        port: int = 0,
        host: str = "127.0.0.1",
        on_event: Callable[[ReceivedEvent], None] | None = None,
    ) -> None:
        self.secret = secret
        self.events: queue.Queue[ReceivedEvent] = queue.Queue()
        self.on_event = on_event
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                raw = self.rfile.read(length)
                header = self.headers.get(SIGNATURE_HEADER, "")
                standard = verify_standard(listener.secret, dict(self.headers.items()), raw)
                ok = verify_signature(listener.secret, header, raw) and standard
                try:
                    event = json.loads(raw)
                except ValueError:
                    event = {}
                received = ReceivedEvent(self.headers.get(EVENT_ID_HEADER), event, ok, raw, header, standard)
                listener.events.put(received)
                if listener.on_event:
                    listener.on_event(received)
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"received": ok}).encode())

            def log_message(self, format: str, *args: Any) -> None:  # quiet: events are printed instead
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = self.server.server_address[0], int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook-listener", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/webhooks"

    def start(self) -> WebhookListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, event_types: set[str], project_id: str | None, timeout: float) -> ReceivedEvent:
        """Block until an event of one of `event_types` (for `project_id`) arrives."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {'/'.join(sorted(event_types))} webhook within {timeout:.0f} s")
            try:
                received = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if received.event.get("event") in event_types and (
                project_id is None or received.event.get("project_id") == project_id
            ):
                return received
