"""OpenAPI 3.1 document generated from the route table (routing.ROUTES) and the pydantic models.

Nothing here is written by hand per endpoint: paths, parameters, bodies and responses all come from
the RouteSpecs that `api_route` registered with the real views, so the document cannot drift.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .routing import ROUTES, RouteSpec
from .schemas import ErrorResponse

REF = "#/components/schemas/{model}"
STATUS_TEXT: dict[int, str] = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 400: "Bad request (param names the field)",
    401: "Missing or invalid API key", 403: "Revoked key or feature outside the plan", 404: "No such resource",
    409: "Conflict (state, or an Idempotency-Key still in flight)", 413: "Body too large",
    415: "Unsupported media type", 422: "Unprocessable (or Idempotency-Key reused with another body)",
    429: "Rate or concurrency limit reached (see Retry-After)", 500: "Internal error",
}
_RATE_HEADERS = {
    "RateLimit": 'The policy nearest its limit, requests left and seconds to its reset (IETF RateLimit header), '
    'e.g. `"writes-minute";r=0;t=45`.',
    "RateLimit-Policy": 'Every policy this request counted against, e.g. `"writes-minute";q=1;w=60, '
    '"writes-hour";q=10;w=3600` (writes) or `"reads-minute";q=120;w=60` (reads).',
    "RateLimit-Limit": "Requests allowed in the window nearest its limit.",
    "RateLimit-Remaining": "Requests left in that window.",
    "RateLimit-Reset": "Seconds until that window resets.",
}
RATE_LIMIT_TEXT = (
    " Rate limits are per account across its keys: POST, PATCH and DELETE count against the plan's writes "
    "windows (Spark 1/min and 10/hour, Creator 3/min and 30/hour, Studio 15/min and 100/hour); GET requests "
    "have a separate reads budget (Spark 120/min, Creator 300/min, Studio 600/min). Every response names the "
    "policy that applied in `RateLimit` and `RateLimit-Policy`; past a limit the answer is 429 with `Retry-After`."
)


def _headers(auth: bool, retry_after: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "X-Request-Id": {"description": "Id of this request (also in the logs).", "required": True,
                         "schema": {"type": "string"}},
    }
    if auth:
        for name, text in _RATE_HEADERS.items():
            out[name] = {"description": text, "schema": {"type": "string"}}
    if retry_after:
        out["Retry-After"] = {"description": "Seconds to wait.", "required": True,
                              "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    return out


def _json(ref_model: type[BaseModel] | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"$ref": REF.format(model=ref_model.__name__)} if ref_model else {"type": "object"}
    return {"application/json": {"schema": schema}}


def _error_statuses(spec: RouteSpec) -> set[int]:
    statuses = set(spec.errors) | {400, 415, 500}
    if spec.auth:
        statuses |= {401, 403, 429}
    if spec.idempotent:
        statuses |= {409, 413, 422}  # Idempotency-Key in flight / reused
    return statuses


def _operation(spec: RouteSpec) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary, "tags": [spec.tag]}
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in spec.path_params
    ]
    if spec.query_model is not None:
        schema = spec.query_model.model_json_schema(ref_template=REF)
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop})
    if spec.idempotent and spec.auth:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "Makes a retry safe: the same key and body replay the first response.",
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255}})
    if params:
        op["parameters"] = params
    if spec.request_model is not None:
        op["requestBody"] = {"required": True, "content": _json(spec.request_model)}
    success: dict[str, Any] = {"description": STATUS_TEXT.get(spec.status, "OK"), "headers": _headers(spec.auth)}
    if spec.text_types:
        # a JSON document (the OpenTimelineIO export) is an object to a client that parses it; the rest is text
        success["content"] = {t: {"schema": {"type": "object" if t == "application/json" else "string"}}
                               for t in spec.text_types}
    elif spec.status != 204:
        success["content"] = _json(spec.response_model)
    responses: dict[str, Any] = {str(spec.status): success}
    for status in sorted(_error_statuses(spec)):
        responses[str(status)] = {
            "description": STATUS_TEXT.get(status, "Error"),
            "headers": _headers(spec.auth and status not in {401, 403}, retry_after=status == 429),
            "content": _json(ErrorResponse),
        }
    op["responses"] = responses
    op["security"] = [{"bearerAuth": []}] if spec.auth else []
    return op


@functools.lru_cache(maxsize=1)
def build_openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every registered route."""
    requests = {s.request_model for s in ROUTES if s.request_model} | {s.query_model for s in ROUTES if s.query_model}
    responses = {s.response_model for s in ROUTES if s.response_model} | {ErrorResponse}
    pairs: list[tuple[type[BaseModel], Any]] = [(m, "validation") for m in sorted(requests, key=lambda m: m.__name__)]
    pairs += [(m, "serialization") for m in sorted(responses, key=lambda m: m.__name__)]
    _, top = models_json_schema(pairs, ref_template=REF)
    defs = top.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    method_order = ("GET", "POST", "PUT", "PATCH", "DELETE")
    for spec in sorted(ROUTES, key=lambda r: (r.path, method_order.index(r.method.upper()))):  # import-order free
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klipstar API",
            "version": "1.0.0",
            "description": "AI video clipping: submit a talk, get ranked vertical clips, publish them. "
            "Authenticate with `Authorization: Bearer ks_live_…` (or ks_test_… for separate test data)."
            + RATE_LIMIT_TEXT,
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "ks_live_…"}},
        },
        "security": [{"bearerAuth": []}],
    }
