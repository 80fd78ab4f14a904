"""Idempotency-Key support through powertools' idempotent_function and its DynamoDB persistence layer.

The record key is tenant + route + Idempotency-Key; the request body is the validated payload, so the
same key with another body raises IdempotencyValidationError (422) and a request still running with
that key raises IdempotencyAlreadyInProgressError (409). Records expire after a day (a setting).
Failed requests (any raised ApiError) delete their record, so the caller may retry with the same key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from ..data.aws import dynamodb_client
from ..data.models import IdempotencyRecord
from ..settings import get_settings
from .errors import ApiError

MAX_KEY_LENGTH = 255
# API Gateway ends every integration after 29 s, so an in-progress record older than this is abandoned.
IN_PROGRESS_MILLIS = 30_000


class _ApiGatewayDeadline:
    """Stands in for a Lambda context: powertools derives the in-progress expiry from it."""

    def get_remaining_time_in_millis(self) -> int:
        return IN_PROGRESS_MILLIS


@functools.lru_cache(maxsize=1)
def _runner() -> Callable[..., dict[str, Any]]:
    settings = get_settings()
    persistence = DynamoDBPersistenceLayer(
        table_name=IdempotencyRecord.Meta.table_name, boto3_client=dynamodb_client()
    )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )
    config.register_lambda_context(_ApiGatewayDeadline())  # type: ignore[arg-type]

    @idempotent_function(
        data_keyword_argument="request", persistence_store=persistence, config=config, key_prefix="klipstar-api"
    )
    def run(*, request: dict[str, Any], call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        return call()

    return run


def reset() -> None:
    """Forget the cached persistence layer (after settings changed)."""
    _runner.cache_clear()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400, "invalid_idempotency_key", f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.",
            param="Idempotency-Key",
        )
    return key


def run_idempotent(
    *, tenant: str, route: str, key: str, body: Any, call: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run `call` once per (tenant, route, key); later calls with the same body get its stored result."""
    request = {"key": f"{tenant}|{route}|{key}", "body": body}
    try:
        return _runner()(request=request, call=call)
    except IdempotencyValidationError:
        raise ApiError(
            422, "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request body.", param="Idempotency-Key",
            error_type="idempotency_error",
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise ApiError(
            409, "idempotency_in_progress",
            "A request with this Idempotency-Key is still in progress; retry shortly.", param="Idempotency-Key",
            error_type="idempotency_error",
        ) from None
