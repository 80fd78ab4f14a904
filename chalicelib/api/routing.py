"""The route table: every API operation is declared once here (through `api_route`) with its models.

The decorator registers the Chalice route *and* the RouteSpec the OpenAPI document is generated from,
so the document cannot drift from the code. It also runs the request pipeline shared by every view:
authenticate → size and nesting checks → (Idempotency-Key? replay or run once) → charge the rate limit
→ JSON/model checks → view. Views receive a `Call` and return `Reply`; they raise ApiError for anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from ..data import quotas
from ..settings import get_settings
from .auth import authenticate
from .context import Principal, state
from .errors import ApiError, internal_error
from .idempotency import run_idempotent, validate_key
from .middleware import logger


@dataclass(frozen=True)
class RouteSpec:
    """One operation, as the OpenAPI generator sees it."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    status: int
    request_model: type[BaseModel] | None
    query_model: type[BaseModel] | None
    response_model: type[BaseModel] | None
    errors: tuple[int, ...]
    auth: bool = True
    text_types: tuple[str, ...] = ()  # a text (not JSON) success body in one of these media types

    @property
    def idempotent(self) -> bool:
        """Work requests take an Idempotency-Key."""
        return self.method in IDEMPOTENT_METHODS

    @property
    def path_params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


ROUTES: list[RouteSpec] = []
IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})


@dataclass
class Call:
    """What a view gets: the caller, path parameters, the validated body and query."""

    principal: Principal
    params: dict[str, str]
    body: Any = None
    query: Any = None


@dataclass
class Reply:
    status: int
    body: Any = None  # a pydantic model, a JSON-able dict, a str (text routes, with Content-Type) or None (204)
    headers: dict[str, str] = field(default_factory=dict)


def _loc_to_param(loc: tuple[Any, ...]) -> str | None:
    # drop pydantic's validator and union-member tags ("function-…", "literal['a','b']", "list[Model]")
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p.startswith("function-") or "[" in p))]
    return ".".join(parts) or None


def validation_error(exc: ValidationError, prefix: str | None = None) -> ApiError:
    """400 naming the first bad field."""
    first = exc.errors(include_url=False)[0]
    param = _loc_to_param(tuple(first.get("loc", ())))
    if first.get("type") == "extra_forbidden":
        message = f"Unknown field {param!r}."
        code = "unknown_field"
    elif first.get("type") == "missing":
        message = f"Missing required field {param!r}."
        code = "missing_field"
    else:
        message = f"Invalid value for {param!r}: {first.get('msg', 'invalid')}."
        code = "invalid_field"
    if prefix and param:
        param = f"{prefix}.{param}" if prefix != "query" else param
    return ApiError(400, code, message, param=param)


MAX_JSON_DEPTH = 16  # no request model nests deeper than a few levels


def json_depth(raw: bytes) -> int:
    """How deeply the arrays/objects of a JSON text nest (brackets inside strings ignored); no parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _integral(literal: str) -> float:
    """A JSON number with a fraction or exponent; 976.0 is an integer in JSON Schema (and the document), so int."""
    value = float(literal)
    return int(value) if value.is_integer() else value


def _parse_body(raw: bytes, model: type[BaseModel]) -> BaseModel:
    """The validated model from the raw request body (400 invalid_json unless it is a JSON object)."""
    try:
        text = raw.decode("utf-8") if raw else ""
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The request body is not UTF-8 JSON.") from None
    if not text.strip():
        text = "{}"
    try:
        data = json.loads(text, parse_float=_integral)
    except ValueError:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The request body must be a JSON object.")
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise validation_error(exc) from None


def _parse_query(query: dict[str, str] | None, model: type[BaseModel] | None) -> Any:
    query = dict(query or {})
    if model is None:
        if query:
            name = sorted(query)[0]
            raise ApiError(400, "unknown_parameter", f"Unknown query parameter {name!r}.", param=name)
        return None
    try:
        return model.model_validate(query)
    except ValidationError as exc:
        raise validation_error(exc) from None


def _dump(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=False)
    return body


def _run(spec: RouteSpec, view: Callable[[Call], Reply], principal: Principal, params: dict[str, str],
         raw: bytes) -> dict[str, Any]:
    """Charge the rate limit, validate, run the view; a JSON-able {status, body, headers}."""
    st = state()
    try:
        st.rate_state = quotas.charge_request(principal.account_id, principal.plan, spec.method)
    except quotas.RateLimited as exc:
        st.rate_state = exc.state
        raise ApiError(429, "rate_limited", f"Too many requests: {exc}. Retry after "
                       f"{exc.state.retry_after} s.", headers=exc.state.headers()) from None
    st.executed = True
    call = Call(principal=principal, params=params)
    call.query = _parse_query(st.request.query_params, spec.query_model)
    if spec.request_model is not None:
        call.body = _parse_body(raw, spec.request_model)
    reply = view(call)
    return {"status": reply.status, "body": _dump(reply.body), "headers": reply.headers}


def _handle(spec: RouteSpec, view: Callable[[Call], Reply], params: dict[str, str]) -> Response:
    st = state()
    request = st.request
    principal = authenticate(request)
    st.principal = principal
    raw = request.raw_body or b""
    if len(raw) > get_settings().max_body_bytes:
        raise ApiError(413, "body_too_large", f"The request body exceeds {get_settings().max_body_bytes} bytes.")
    if json_depth(raw) > MAX_JSON_DEPTH:  # refused before the rate limit is charged, never a RecursionError
        raise ApiError(400, "invalid_json", f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    idem_header = request.headers.get("idempotency-key")
    if spec.idempotent and idem_header is not None:
        key = validate_key(idem_header)
        try:
            payload: Any = json.loads(raw or b"{}")
        except ValueError:
            payload = raw.decode("utf-8", errors="replace")
        route = f"{spec.method} {spec.path}"
        for name, value in params.items():
            route += f"|{name}={value}"
        result = run_idempotent(tenant=principal.tenant, route=route, key=key, body=payload,
                                call=lambda: _run(spec, view, principal, params, raw))
        if not st.executed:
            st.replayed = True
    else:
        result = _run(spec, view, principal, params, raw)
    headers = {"Content-Type": "application/json", **result.get("headers", {})}
    if st.replayed:
        headers["Idempotent-Replayed"] = "true"
    body = result.get("body")
    if isinstance(body, str):  # a text export: the view set its Content-Type
        return Response(body=body, status_code=result["status"], headers=headers)
    if result["status"] == 204:
        return Response(body="", status_code=204, headers={k: v for k, v in headers.items() if k != "Content-Type"})
    return Response(body=json.dumps(body), status_code=result["status"], headers=headers)


def api_route(
    bp: Blueprint,
    path: str,
    method: str,
    *,
    status: int = 200,
    summary: str,
    tag: str,
    request: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
    text: tuple[str, ...] = (),
) -> Callable[[Callable[[Call], Reply]], Callable[[Call], Reply]]:
    """Declare an authenticated JSON operation (registers the Chalice route and its RouteSpec)."""

    def decorate(view: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
        spec = RouteSpec(method=method, path=path, operation_id=view.__name__, summary=summary, tag=tag,
                         status=status, request_model=request, query_model=query, response_model=response,
                         errors=errors, text_types=text)
        ROUTES.append(spec)

        def chalice_view(**params: str) -> Response:
            try:
                return _handle(spec, view, params)
            except ApiError as exc:
                return exc.to_response()
            except Exception:
                logger.exception("unhandled error", extra={"request_id": state().request_id, "path": spec.path})
                return internal_error().to_response()

        chalice_view.__name__ = view.__name__
        chalice_view.__doc__ = view.__doc__
        bp.route(path, methods=[method])(chalice_view)
        return view

    return decorate
