"""The API's one error shape, {"error": {"type", "code", "message", "param"}}, and its statuses."""

from __future__ import annotations

import json
from typing import Any

from chalice import Response

# HTTP status -> error type (the coarse family; `code` is the specific reason).
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
}


class ApiError(Exception):
    """Raised anywhere in the HTTP layer; rendered as the error shape with `status`."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers or {}
        self.type = error_type or ERROR_TYPES.get(status, "api_error")

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.type, "code": self.code, "message": self.message, "param": self.param}}

    def to_response(self) -> Response:
        return Response(
            body=json.dumps(self.body()),
            status_code=self.status,
            headers={"Content-Type": "application/json", **self.headers},
        )


def internal_error() -> ApiError:
    return ApiError(500, "internal_error", "An internal error occurred. Retry later or contact support.")


# Chalice builds some responses itself ({"Code", "Message"}); these map them onto our shape.
_CHALICE_CODES: dict[str, tuple[str, str]] = {
    "MethodNotAllowedError": ("method_not_allowed", "This method is not allowed on this path."),
    "UnsupportedMediaType": ("unsupported_media_type", "Send the request body as application/json."),
    "BadRequestError": ("invalid_request", "The request is malformed."),
    "NotFoundError": ("resource_missing", "No such resource."),
    "InternalServerError": ("internal_error", "An internal error occurred. Retry later or contact support."),
}


def convert_foreign_error(response: Response) -> Response:
    """Rewrite a Chalice-made error response (or any non-conforming 4xx/5xx) into the error shape."""
    if response.status_code < 400:
        return response
    body = response.body
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except ValueError:
            body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and "code" in body["error"]:
        return response
    chalice_code = body.get("Code") if isinstance(body, dict) else None
    code, message = _CHALICE_CODES.get(str(chalice_code), ("http_error", "The request failed."))
    if response.status_code >= 500:
        code, message = _CHALICE_CODES["InternalServerError"]
    elif isinstance(body, dict) and isinstance(body.get("Message"), str) and chalice_code not in _CHALICE_CODES:
        message = body["Message"]
    error = ApiError(response.status_code, code, message)
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    return Response(body=json.dumps(error.body()), status_code=response.status_code, headers=headers)


def gateway_responses() -> dict[str, Any]:
    """CloudFormation GatewayResponse resources so API Gateway's own errors share the shape.

    For the deployment template (merge into Resources): an unknown path (MISSING_AUTHENTICATION_TOKEN)
    becomes 404, an oversize body 413, everything else keeps its status with our body.
    """
    def body(status: int, code: str, message: str) -> str:
        return json.dumps(ApiError(status, code, message).body())

    specs = {
        "MISSING_AUTHENTICATION_TOKEN": (404, "resource_missing", "No such resource."),
        "REQUEST_TOO_LARGE": (413, "body_too_large", "The request body is too large."),
        "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", "Send the request body as application/json."),
        "THROTTLED": (429, "rate_limited", "Too many requests."),
        "DEFAULT_4XX": (400, "invalid_request", "The request is malformed."),
        "DEFAULT_5XX": (500, "internal_error", "An internal error occurred."),
    }
    out: dict[str, Any] = {}
    for kind, (status, code, message) in specs.items():
        name = "GatewayResponse" + "".join(p.title() for p in kind.split("_"))
        props: dict[str, Any] = {
            "RestApiId": {"Ref": "RestAPI"},
            "ResponseType": kind,
            "ResponseTemplates": {"application/json": body(status, code, message)},
            "ResponseParameters": {"gatewayresponse.header.Content-Type": "'application/json'"},
        }
        if not kind.startswith("DEFAULT"):
            props["StatusCode"] = str(status)
        out[name] = {"Type": "AWS::ApiGateway::GatewayResponse", "Properties": props}
    return out
