"""The local API server: chalice's request handler on a threading server built for bursts.

chalice's dev server listens with Python's default backlog of 5, so a burst of parallel connections
gets resets; its handler answers methods it does not know (TRACE, CONNECT, anything) with a 501 HTML
page. Here the backlog is large and unknown methods get 405 in the API's error shape.
"""

from __future__ import annotations

import json
from typing import Any

from chalice import Chalice
from chalice.config import Config
from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer, ThreadedHTTPServer

BACKLOG = 256


class BurstServer(ThreadedHTTPServer):
    """One thread per connection, with a listen backlog that absorbs bursts."""

    request_queue_size = BACKLOG
    daemon_threads = True


class KlipstarRequestHandler(ChaliceRequestHandler):
    """chalice's handler, with 405 in the error shape for methods no route has."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        if code != 501:  # 400 (malformed request line), 414, 431...: the standard answers
            super().send_error(code, message, explain)
            return
        body = json.dumps({"error": {"type": "invalid_request_error", "code": "method_not_allowed",
                                     "message": f"The {self.command} method is not allowed.", "param": None}})
        data = body.encode()
        self.send_response(405)
        self.send_header("Content-Type", "application/json")
        self.send_header("Allow", "GET, POST, PATCH, DELETE")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        if self.command != "HEAD":
            self.wfile.write(data)


def make_api_server(app: Chalice, host: str, port: int) -> Any:
    """What `chalice.local.create_local_server` makes, with KlipstarRequestHandler on a BurstServer."""
    config = Config.create(chalice_stage="local", app_name="klipstar", chalice_app=app)
    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=KlipstarRequestHandler, server_cls=BurstServer)
