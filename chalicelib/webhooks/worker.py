"""Local mode's webhook worker: poll the webhook queue and run the dispatcher, as Lambda's SQS event
source does on AWS (messages reported as batch item failures stay on the queue for their retry)."""

from __future__ import annotations

import threading
from typing import Any

from ..data.aws import sqs_client
from ..settings import get_settings
from .dispatcher import handle_records


def poll_once(queue_url: str | None = None, *, wait_seconds: int = 0, max_messages: int = 10) -> int:
    """Receive up to `max_messages`, dispatch them, delete the ones done with; returns how many arrived."""
    queue = queue_url or get_settings().webhook_queue_url
    sqs = sqs_client()
    messages: list[dict[str, Any]] = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=max_messages, WaitTimeSeconds=wait_seconds
    ).get("Messages", [])
    if not messages:
        return 0
    records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"]} for m in messages]
    failed = {f["itemIdentifier"] for f in handle_records(records, queue)["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return len(messages)


def run(stop: threading.Event, queue_url: str | None = None, *, wait_seconds: int = 1) -> None:
    """Poll until `stop` is set (run it in a daemon thread)."""
    while not stop.is_set():
        try:
            poll_once(queue_url, wait_seconds=wait_seconds)
        except Exception:  # a bad message or a hiccup must not kill the worker thread
            from ..pipeline.common import logger

            logger.exception("webhook worker pass failed")
            stop.wait(1.0)
