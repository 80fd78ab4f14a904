"""Webhook delivery: the SQS-fed dispatcher.

One attempt per message: claim the WebhookDelivery row with a lease (a conditional write: concurrent
deliveries of one event send once), sign the body with every active secret (Klipstar-Signature and
Standard Webhooks headers), POST it through the URL guard's session (the resolved address is checked
before connecting; redirects are not followed), log the attempt and release the lease. Every update is
conditional on the row existing, so a delivery whose project was deleted meanwhile is never recreated.
2xx means delivered. Anything else, a timeout or a refused address is retried with exponential
backoff (the message's visibility is pushed out, and the handler reports it as a batch item failure)
until about `webhook_retry_hours` after the first attempt; then the delivery is marked failed and the
message parked in the dead-letter queue.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from pynamodb.exceptions import UpdateError

from ..data.aws import sqs_client
from ..data.conditional import condition_failed
from ..data.models import WebhookDelivery, WebhookEndpoint, utcnow
from ..engine.errors import UrlRefused
from ..engine.urlguard import guarded_session
from ..observability import get_logger
from ..settings import get_settings
from .events import materialize
from .signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign_all, standard_headers
from .signing_secrets import account_ring, endpoint_ring

logger = get_logger("klipstar-webhooks")

BASE_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 6 * 3600  # SQS allows up to 12 h of visibility timeout
USER_AGENT = "Klipstar-Webhooks/1"
LEASE_MARGIN_SECONDS = 30  # a lease outlives the attempt's timeout by this much


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


def signing_secrets(delivery: WebhookDelivery) -> list[str] | None:
    """The secrets that sign this delivery now (its endpoint's, or the account's for the mode); None if the
    endpoint was deleted since the event was queued."""
    if delivery.endpoint_id:
        try:
            endpoint = WebhookEndpoint.get(delivery.endpoint_id, consistent_read=True)
        except WebhookEndpoint.DoesNotExist:
            return None
        return endpoint_ring(endpoint).active() if endpoint.tenant == delivery.tenant else None
    return account_ring(delivery.tenant).active()


def attempt(delivery: WebhookDelivery, secrets: list[str]) -> dict[str, Any]:
    """POST the signed event once; returns the attempt record {at, status_code, latency_ms, error}."""
    settings = get_settings()
    body = json.dumps(materialize(delivery.payload), separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign_all(secrets, timestamp, body),
        EVENT_ID_HEADER: delivery.event_id,
        EVENT_TYPE_HEADER: delivery.event_type,
        **standard_headers(secrets, delivery.event_id, timestamp, body),
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


def _update(delivery: WebhookDelivery, actions: list[Any], condition: Any) -> bool:
    """A conditional update (always also conditional on the row existing); False when the condition fails."""
    try:
        delivery.update(actions=actions, condition=WebhookDelivery.event_id.exists() & condition)
    except UpdateError as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def claim(delivery: WebhookDelivery) -> str | None:
    """Lease the delivery for one attempt (a conditional write); the lease token, or None if another
    attempt holds an unexpired lease, the delivery is no longer pending or the row is gone."""
    now = time.time()
    token = secrets.token_hex(8)
    until = now + get_settings().webhook_timeout_seconds + LEASE_MARGIN_SECONDS
    free = WebhookDelivery.lease_until.does_not_exist() | (WebhookDelivery.lease_until < now)
    ok = _update(delivery, [WebhookDelivery.lease_until.set(until), WebhookDelivery.lease_token.set(token)],
                 (WebhookDelivery.status == "pending") & free)
    return token if ok else None


def _record(delivery: WebhookDelivery, token: str, record: dict[str, Any], status: str | None) -> bool:
    """Log the attempt (and the new status) and release the lease; False when the row was deleted meanwhile.

    Every POST is logged: if the lease expired and another attempt took it over, the record is still
    appended (without touching that attempt's lease)."""
    changes = [WebhookDelivery.attempts.set(WebhookDelivery.attempts.append([record]))]
    if status:
        changes.append(WebhookDelivery.status.set(status))
    released = [*changes, WebhookDelivery.lease_until.remove(), WebhookDelivery.lease_token.remove()]
    if _update(delivery, released, WebhookDelivery.lease_token == token):
        return True
    return _update(delivery, changes, WebhookDelivery.event_id.exists())


def _busy(event_id: str) -> Outcome:
    """Another attempt holds the lease: look again once it may have ended."""
    try:
        delivery = WebhookDelivery.get(event_id, consistent_read=True)
    except WebhookDelivery.DoesNotExist:
        return Outcome("missing")
    if delivery.status in {"delivered", "failed"}:
        return Outcome(delivery.status)
    wait = float(delivery.lease_until or 0) - time.time()
    return Outcome("retry", delay=max(1, int(wait) + 1))


def deliver(event_id: str) -> Outcome:
    """Claim, make one attempt for `event_id` and record it; decide what happens next."""
    try:
        delivery = WebhookDelivery.get(event_id, consistent_read=True)
    except WebhookDelivery.DoesNotExist:
        return Outcome("missing")
    if delivery.status in {"delivered", "failed"}:
        return Outcome(delivery.status)  # a duplicate message: nothing to do
    token = claim(delivery)
    if token is None:
        return _busy(event_id)
    keys = signing_secrets(delivery)
    if keys is None:  # the endpoint was deleted: nothing to send to, ever
        gone = {"at": utcnow().isoformat(), "status_code": None, "latency_ms": 0, "error": "endpoint deleted"}
        _record(delivery, token, gone, "failed")
        return Outcome("missing")
    record = attempt(delivery, keys)
    logger.info(
        "webhook attempt",
        extra={"event_id": event_id, "event_type": delivery.event_type, "project_id": delivery.project_id,
               "attempt": len(delivery.attempts or []) + 1, "status_code": record["status_code"],
               "latency_ms": record["latency_ms"], "error": record["error"]},
    )
    if record["error"] is None:
        if not _record(delivery, token, record, "delivered"):
            return Outcome("missing")
        return Outcome("delivered", status_code=record["status_code"])
    window = timedelta(hours=get_settings().webhook_retry_hours)
    deadline = (delivery.retry_from or delivery.created_at) + window
    now = utcnow()
    final = now >= deadline
    if not _record(delivery, token, record, "failed" if final else None):
        return Outcome("missing")  # the project (and its delivery log) was deleted meanwhile
    if final:
        return Outcome("failed", status_code=record["status_code"])
    delay = max(1, min(backoff(len(delivery.attempts or [])), int((deadline - now).total_seconds()) + 1))
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
    if not _update(delivery, [WebhookDelivery.status.set("pending"), WebhookDelivery.retry_from.set(utcnow())],
                   WebhookDelivery.event_id.exists()):
        raise WebhookDelivery.DoesNotExist()
    send(event_id)
    return delivery
