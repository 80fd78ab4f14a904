"""AWS throttling, 5xx and network timeouts inside a step surface as TransientError (which the ASL
retries); everything else keeps its own type (permanent: caught into MarkFailed)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from pynamodb.exceptions import PutError

from chalicelib.engine.errors import NotMedia, TransientError
from chalicelib.pipeline.common import StepContext, step, transient_reason


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "PutItem")


def _raising(exc: Exception):  # type: ignore[no-untyped-def]
    @step("probe")
    def body(ctx: StepContext) -> dict:
        raise exc

    return body


@pytest.mark.parametrize("exc", [
    _client_error("ProvisionedThroughputExceededException"),
    _client_error("SlowDown"),
    EndpointConnectionError(endpoint_url="http://dynamodb"),
    PutError("Failed to put item", cause=_client_error("ThrottlingException")),
])
def test_throttling_and_network_errors_become_transient(exc: Exception) -> None:
    assert transient_reason(exc)
    with pytest.raises(TransientError) as raised:
        _raising(exc)({"project_id": "p", "tenant": "a#live"})
    assert raised.value.__cause__ is exc


@pytest.mark.parametrize("exc", [
    _client_error("ConditionalCheckFailedException"),
    _client_error("AccessDenied"),
    NotMedia("not a video"),
    KeyError("bug"),
])
def test_other_errors_keep_their_type(exc: Exception) -> None:
    assert transient_reason(exc) is None
    with pytest.raises(type(exc)):
        _raising(exc)({"project_id": "p", "tenant": "a#live"})
