"""Local stand-in for Lambda's SQS event source mapping: poll a queue, call the handler, delete.

The handler gets the same event Lambda would send ({"Records": [...]}); message ids it reports in
`batchItemFailures` stay on the queue (their visibility timeout decides when they come back), the
rest are deleted, exactly as ReportBatchItemFailures works on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..data.aws import sqs_client

SqsHandler = Callable[[dict[str, Any]], Any]


def poll_queue(queue_url: str, handler: SqsHandler, *, wait_seconds: int = 0, max_messages: int = 10) -> int:
    """One receive: hand the batch to `handler`, delete what it did not report failed; returns the count."""
    sqs = sqs_client()
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    if not messages:
        return 0
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]} for m in messages]
    result = handler({"Records": records}) or {}
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])} if isinstance(result, dict) else set()
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return len(messages)


def webhook_handler(event: dict[str, Any]) -> dict[str, Any]:
    """The webhook dispatcher Lambda, as the queue's event source calls it."""
    from ..settings import get_settings
    from ..webhooks.dispatcher import handle_records

    return handle_records(event["Records"], get_settings().webhook_queue_url)


def publish_handler(event: dict[str, Any]) -> dict[str, Any]:
    """The publish worker Lambda, as the queue's event source calls it."""
    from ..publishing.worker import sqs_handler

    return sqs_handler(event)


def drain_webhooks(max_rounds: int = 5) -> int:
    """Deliver what is visible on the webhook queue now (tests and one-shot local runs)."""
    from ..settings import get_settings

    handled = 0
    for _ in range(max_rounds):
        got = poll_queue(get_settings().webhook_queue_url, webhook_handler)
        if not got:
            break
        handled += got
    return handled
