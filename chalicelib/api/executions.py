"""Starting and stopping pipeline executions, enqueueing publications, and URL screening for requests."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ..data.aws import stepfunctions_client
from ..engine.errors import UrlRefused, UrlUnreachable
from ..engine.urlguard import check_url
from ..settings import get_settings
from .errors import ApiError
from .middleware import logger


def start_pipeline(name: str, payload: dict[str, Any]) -> str:
    """start_execution on the pipeline state machine; the execution ARN.

    Projects run as {"project_id", "tenant"} and prompt jobs as {"project_id", "tenant", "prompt_job_id"};
    the execution is named after the project / prompt job id, so a retried start cannot run twice.
    """
    response = stepfunctions_client().start_execution(
        stateMachineArn=get_settings().state_machine_arn, name=name, input=json.dumps(payload)
    )
    return str(response["executionArn"])


def stop_pipeline(execution_arn: str | None, cause: str) -> None:
    """Stop a running execution (ignored when it already ended or never existed)."""
    if not execution_arn:
        return
    try:
        stepfunctions_client().stop_execution(executionArn=execution_arn, error="Deleted", cause=cause)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code not in {"ExecutionDoesNotExist", "ExecutionNotFound", "InvalidArn", "ValidationException"}:
            raise
        logger.info("stop_execution skipped", extra={"execution_arn": execution_arn, "code": code})


def screen_url(url: str, param: str) -> None:
    """The URL guard at request time: 422 url_refused naming `param` for a refused scheme or address.

    A name that does not resolve right now is accepted here; the pipeline resolves again when it
    fetches (through the guarded session) and fails the project with url_unreachable.
    """
    try:
        check_url(url, get_settings().private_urls_allowed)
    except UrlRefused as exc:
        raise ApiError(422, "url_refused", exc.message, param=param) from None
    except UrlUnreachable:
        return
