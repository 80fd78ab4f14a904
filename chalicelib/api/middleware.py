"""HTTP middleware around every route (ours and other blueprints'): request id, error shape, headers, logs."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from chalice import Response
from chalice.app import Request

from ..data import quotas
from ..observability import get_logger
from .context import RequestState, reset_state, set_state
from .errors import ApiError, convert_foreign_error, internal_error

logger = get_logger("klipstar-api")

REQUEST_ID_HEADER = "X-Request-Id"


def _request_id(request: Request) -> str:
    context = getattr(request, "context", None) or {}
    upstream = context.get("requestId") if isinstance(context, dict) else None
    return f"req_{upstream or uuid.uuid4().hex}"


def api_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """Run the request; whatever happens, answer in the error shape with X-Request-Id and RateLimit-*."""
    st = RequestState(request=event, request_id=_request_id(event))
    token = set_state(st)
    try:
        try:
            response = get_response(event)
        except ApiError as exc:
            response = exc.to_response()
        except Exception:
            logger.exception("unhandled error", extra={"request_id": st.request_id, "path": _path(event)})
            response = internal_error().to_response()
        response = convert_foreign_error(response)
        response.headers[REQUEST_ID_HEADER] = st.request_id
        if st.principal is not None:
            rate = st.rate_state
            if rate is None:  # replayed or refused before charging: report without charging
                try:
                    rate = quotas.peek(st.principal.account_id, st.principal.plan, str(event.method))
                except Exception:
                    logger.exception("rate peek failed", extra={"request_id": st.request_id})
            if rate is not None:
                for name, value in rate.headers().items():
                    response.headers.setdefault(name, value)
        logger.info(
            "request",
            extra={
                "request_id": st.request_id,
                "method": getattr(event, "method", None),
                "path": _path(event),
                "status": response.status_code,
                "account_id": st.principal.account_id if st.principal else None,
                "replayed": st.replayed,
                "latency_ms": round((time.monotonic() - st.started) * 1000, 1),
            },
        )
        return response
    finally:
        reset_state(token)


def _path(event: Request) -> str | None:
    context = getattr(event, "context", None) or {}
    return context.get("path") or context.get("resourcePath") if isinstance(context, dict) else None
