"""The one seam between moto and our code: Lambda invocations dispatched in-process.

moto's Lambda-without-Docker backend (`LambdaSimpleBackend.invoke`) normally echoes its input. We
replace it with a dispatcher that looks the function name up in a registry of handlers (the Chalice
app's registered functions plus the container-image handlers) and calls it. A raised exception comes
back the way real Lambda reports it: header `x-amz-function-error: Unhandled` and a JSON body
{errorType, errorMessage}, so Step Functions' Retry/Catch match it by class name.
"""

from __future__ import annotations

import importlib
import json
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]

_lock = threading.Lock()
_registry: dict[str, Handler | str] = {}
_original_invoke: Any = None


@dataclass
class FakeContext:
    """The bits of the Lambda context object that handlers and powertools read."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _resolve(target: Handler | str) -> Handler:
    if callable(target):
        return target
    module_name, _, attr = target.rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def register(function_name: str, handler: Handler | str) -> None:
    """Map a Lambda function name to a callable or a dotted "module.attr" handler string."""
    with _lock:
        _registry[function_name] = handler


def registered() -> dict[str, Handler | str]:
    with _lock:
        return dict(_registry)


def invoke_local(function_name: str, event: Any) -> tuple[bytes, str | None]:
    """Run the handler for `function_name`; returns (payload bytes, function error kind or None)."""
    name = function_name.split(":function:")[-1].split(":")[0]
    with _lock:
        target = _registry.get(name)
    if target is None:
        body = {"errorType": "ResourceNotFoundException", "errorMessage": f"no local handler for {name}"}
        return json.dumps(body).encode(), "Unhandled"
    context = FakeContext(function_name=name, aws_request_id=str(uuid.uuid4()))
    try:
        result = _resolve(target)(event, context)
    except Exception as exc:
        body = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_exception(exc)[-3:],
        }
        return json.dumps(body).encode(), "Unhandled"
    return json.dumps(result).encode(), None


def _dispatching_invoke(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    raw = body.decode() if isinstance(body, bytes) else body
    event = json.loads(raw) if raw else {}
    payload, error = invoke_local(function_name, event)
    if error:
        response_headers["x-amz-function-error"] = error
    return payload


def install() -> None:
    """Patch moto's Lambda-without-Docker invoke with the dispatcher (idempotent)."""
    global _original_invoke
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _lock:
        if _original_invoke is None:
            _original_invoke = LambdaSimpleBackend.invoke
            LambdaSimpleBackend.invoke = _dispatching_invoke  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto's own invoke back."""
    global _original_invoke
    from moto.awslambda_simple.models import LambdaSimpleBackend

    with _lock:
        if _original_invoke is not None:
            LambdaSimpleBackend.invoke = _original_invoke  # type: ignore[method-assign]
            _original_invoke = None
