"""Webhook delivery: the SQS-fed dispatcher.

One attempt per message: sign the body, POST it through the URL guard's session (the resolved address
is checked before connecting; redirects are not followed), log the attempt on the WebhookDelivery row.
2xx means delivered. Anything else, a timeout or a refused address is retried with exponential
backoff (the message's visibility is pushed out, and the handler reports it as a batch item failure)
until about `webhook_retry_hours` after the first attempt; then the delivery is marked failed and the
message parked in the dead-letter queue.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from ..data.aws import sqs_client
from ..data.models import Account, WebhookDelivery, utcnow
from ..engine.errors import UrlRefused
from ..engine.urlguard import guarded_session
from ..observability import get_logger
from ..settings import get_settings
from .events import materialize
from .signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign

logger = get_logger("klipstar-webhooks")

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600  # SQS allows up to 12 h of visibility timeout
USER_AGENT = "Klipstar-Webhooks/1"


@dataclass
class Outcome:
    """What one attempt decided: delivered, retry after `delay` seconds, or failed for good."""

    status: str  # delivered | retry | failed | missing
    delay: int = 0
    status_code: int | None = None


def backoff(attempt: int) -> int:
    """Delay before attempt `attempt + 1` (attempt counts from 1): 30 s doubling, capped at 6 h, jittered."""
    base = min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2 ** max(0, attempt - 1))
    return int(base * random.uniform(0.8, 1.0))  # equal-ish jitter keeps the schedule roughly ~24 h


def _secret_for(tenant: str) -> str:
    account_id = tenant.split("#", 1)[0]
    return Account.get(account_id, consistent_read=True).webhook_secret


def attempt(delivery: WebhookDelivery) -> dict[str, Any]:
    """POST the signed event once; returns the attempt record {at, status_code, latency_ms, error}."""
    settings = get_settings()
    body = json.dumps(materialize(delivery.payload), separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(_secret_for(delivery.tenant), timestamp, body),
        EVENT_ID_HEADER: delivery.event_id,
        EVENT_TYPE_HEADER: delivery.event_type,
    }
    record: dict[str, Any] = {"at": utcnow().isoformat(), "status_code": None, "latency_ms": 0, "error": None}
    started = time.monotonic()
    try:
        session = guarded_session(settings.private_urls_allowed, 0)
        with session:
            response = session.post(
                delivery.url,
                data=body,
                headers=headers,
                timeout=settings.webhook_timeout_seconds,
                allow_redirects=False,
            )
            record["status_code"] = response.status_code
            if not 200 <= response.status_code < 300:
                record["error"] = f"HTTP {response.status_code}"
    except UrlRefused as exc:
        record["error"] = f"refused: {exc.message}"
    except requests.Timeout:
        record["error"] = "timeout"
    except requests.RequestException as exc:
        record["error"] = f"connection error: {type(exc).__name__}"
    record["latency_ms"] = round((time.monotonic() - started) * 1000)
    return record


def deliver(event_id: str) -> Outcome:
    """Make one attempt for `event_id` and record it; decide what happens next."""
    try:
        delivery = WebhookDelivery.get(event_id, consistent_read=True)
    except WebhookDelivery.DoesNotExist:
        return Outcome("missing")
    if delivery.status in {"delivered", "failed"}:
        return Outcome(delivery.status)  # a duplicate message: nothing to do
    record = attempt(delivery)
    attempts = [*list(delivery.attempts or []), record]
    logger.info(
        "webhook attempt",
        extra={"event_id": event_id, "event_type": delivery.event_type, "project_id": delivery.project_id,
               "attempt": len(attempts), "status_code": record["status_code"], "latency_ms": record["latency_ms"],
               "error": record["error"]},
    )
    if record["error"] is None:
        delivery.update(actions=[WebhookDelivery.attempts.set(attempts), WebhookDelivery.status.set("delivered")])
        return Outcome("delivered", status_code=record["status_code"])
    delay = backoff(len(attempts))
    window = timedelta(hours=get_settings().webhook_retry_hours)
    deadline = (delivery.retry_from or delivery.created_at) + window
    now = utcnow()
    if now >= deadline:
        delivery.update(actions=[WebhookDelivery.attempts.set(attempts), WebhookDelivery.status.set("failed")])
        return Outcome("failed", status_code=record["status_code"])
    delay = max(1, min(delay, int((deadline - now).total_seconds()) + 1))
    delivery.update(actions=[WebhookDelivery.attempts.set(attempts)])
    return Outcome("retry", delay=delay, status_code=record["status_code"])


def park(event_id: str) -> None:
    """Send a delivery that failed for good to the dead-letter queue."""
    dlq = get_settings().webhook_dlq_url
    if dlq:
        sqs_client().send_message(QueueUrl=dlq, MessageBody=json.dumps({"event_id": event_id}))


def handle_message(body: str, receipt_handle: str | None, queue_url: str | None = None) -> bool:
    """Process one queue message; True when it is done with (delete it), False to keep it for a retry."""
    event_id = str(json.loads(body)["event_id"])
    outcome = deliver(event_id)
    if outcome.status == "retry":
        queue = queue_url or get_settings().webhook_queue_url
        if receipt_handle and queue:
            sqs_client().change_message_visibility(
                QueueUrl=queue, ReceiptHandle=receipt_handle, VisibilityTimeout=min(43200, outcome.delay)
            )
        return False
    if outcome.status == "failed":
        park(event_id)
    return True


def handle_records(records: list[dict[str, Any]], queue_url: str | None = None) -> dict[str, Any]:
    """An SQS batch -> {"batchItemFailures": [...]} (the event source mapping reports partial failures)."""
    import os

    metrics = EphemeralMetrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Klipstar"),
                               service="klipstar-webhooks")
    failures = []
    for record in records:
        receipt = record.get("receiptHandle") or record.get("ReceiptHandle")
        body = record.get("body") or record.get("Body") or "{}"
        if not handle_message(body, receipt, queue_url):
            failures.append({"itemIdentifier": record.get("messageId") or record.get("MessageId")})
    metrics.add_metric(name="WebhookMessages", unit=MetricUnit.Count, value=len(records))
    metrics.add_metric(name="WebhookRetries", unit=MetricUnit.Count, value=len(failures))
    metrics.flush_metrics()
    return {"batchItemFailures": failures}


def resend(event_id: str) -> WebhookDelivery:
    """Start a fresh retry window for a delivery and queue it again."""
    from .events import send

    delivery = WebhookDelivery.get(event_id, consistent_read=True)
    delivery.update(actions=[WebhookDelivery.status.set("pending"), WebhookDelivery.retry_from.set(utcnow())])
    send(event_id)
    return delivery
