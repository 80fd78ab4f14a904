"""A tiny WSGI adapter over Chalice's LocalGateway, so WSGI test tools (schemathesis) can call the app in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from chalice import Chalice
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException


class ChaliceWSGI:
    def __init__(self, app: Chalice) -> None:
        self.gateway = LocalGateway(app, Config.create(chalice_stage="dev"))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers: dict[str, str] = {}
        for name, value in environ.items():
            if name.startswith("HTTP_"):
                headers[name[5:].replace("_", "-").lower()] = value
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        # PATH_INFO is already percent-decoded: re-quote it so a "?" or "/" inside a path parameter stays in it
        path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ.get("PATH_INFO", "/"), safe="/")
        path = path.split("?", 1)[0]
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        try:
            response = self.gateway.handle_request(environ["REQUEST_METHOD"], path, headers, body)
            status = int(response["statusCode"])
            out_headers = list(response.get("headers", {}).items())
            for name, values in (response.get("multiValueHeaders") or {}).items():
                out_headers += [(name, v) for v in values]
            payload = response.get("body") or b""
            if response.get("isBase64Encoded"):
                import base64

                payload = base64.b64decode(payload)
            elif isinstance(payload, str):
                payload = payload.encode()
        except LocalGatewayException as exc:
            status, out_headers, payload = exc.CODE, list(exc.headers.items()), exc.body or b""
        start_response(f"{status} {HTTPStatus(status).phrase}", out_headers)
        return [payload]
