"""/v1/webhooks/deliveries: the webhook delivery log (attempts, status codes, latency) and resend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from ...data.models import WebhookDelivery
from ...webhooks.dispatcher import resend
from ..loaders import load_owned, load_project
from ..routing import Call, Reply, api_route

bp = Blueprint(__name__)
TAG = "webhooks"


class DeliveriesQuery(BaseModel):
    """Query string of GET /v1/webhooks/deliveries."""

    model_config = ConfigDict(extra="forbid")
    project_id: str = Field(min_length=1, max_length=100, description="The project whose deliveries to list.")
    limit: int = Field(20, ge=1, le=100)


class DeliveryAttempt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: str
    status_code: int | None
    latency_ms: int
    error: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    object: Literal["webhook_delivery"] = "webhook_delivery"
    project_id: str
    event: str
    url: str
    endpoint_id: str | None = Field(None, description="The webhook endpoint (we_…); null: the project's webhook_url.")
    status: Literal["pending", "delivered", "failed"]
    attempts: list[DeliveryAttempt]
    created_at: datetime


class DeliveryList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    object: Literal["list"] = "list"
    data: list[DeliveryOut]


def _attempt(raw: Any) -> DeliveryAttempt:
    data = raw.as_dict() if hasattr(raw, "as_dict") else dict(raw)
    return DeliveryAttempt(
        at=str(data.get("at", "")),
        status_code=int(data["status_code"]) if data.get("status_code") is not None else None,
        latency_ms=int(data.get("latency_ms") or 0),
        error=data.get("error"),
    )


def delivery_out(delivery: WebhookDelivery) -> DeliveryOut:
    created = delivery.created_at if delivery.created_at.tzinfo else delivery.created_at.replace(tzinfo=UTC)
    return DeliveryOut(
        id=delivery.event_id,
        project_id=delivery.project_id,
        event=delivery.event_type,
        url=delivery.url,
        endpoint_id=delivery.endpoint_id,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=[_attempt(a) for a in delivery.attempts or []],
        created_at=created,
    )


@api_route(bp, "/v1/webhooks/deliveries", "GET", summary="List a project's webhook deliveries", tag=TAG,
           query=DeliveriesQuery, response=DeliveryList, errors=(400, 404))
def list_deliveries(call: Call) -> Reply:
    """Newest first, with every attempt (time, status code, latency, error)."""
    query: DeliveriesQuery = call.query
    project = load_project(call.principal.tenant, query.project_id, param="project_id")
    rows = WebhookDelivery.by_project.query(project.project_id, scan_index_forward=False, limit=query.limit)
    data = [delivery_out(d) for d in rows if d.tenant == call.principal.tenant]
    return Reply(200, DeliveryList(data=data[: query.limit]))


@api_route(bp, "/v1/webhooks/deliveries/{delivery_id}/resend", "POST", status=202,
           summary="Send a webhook event again", tag=TAG, response=DeliveryOut, errors=(404,))
def resend_delivery(call: Call) -> Reply:
    """Queue the same event (same id and payload) again with a fresh ~24 h retry window."""
    delivery = load_owned(WebhookDelivery, "webhook delivery", call.principal.tenant, call.params["delivery_id"])
    resend(delivery.event_id)
    delivery.refresh(consistent_read=True)
    return Reply(202, delivery_out(delivery))
