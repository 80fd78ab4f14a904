"""/v1/webhook-endpoints and /v1/webhook-secret: where events go and the secrets that sign them.

An endpoint receives every event of the caller's account and mode (or the types it lists), signed with
its own secret; the secret is shown once, when the endpoint is created or its secret rotated, and is
stored sealed (chalicelib.data.sealing). A project's `webhook_url` is signed with the account's secret
for the key's mode, which GET /v1/webhook-secret shows and POST /v1/webhook-secret/rotate replaces.
After a rotation the previous secret keeps signing (a second signature) for the overlap window.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pynamodb.exceptions import UpdateError

from ...data.conditional import condition_failed
from ...data.models import WebhookEndpoint, utcnow
from ...webhooks.events import EVENT_TYPES, livemode
from ...webhooks.signing_secrets import Ring, account_ring, endpoint_ring, new_secret, rotate_account, seal_ring
from ..errors import ApiError
from ..executions import screen_url
from ..loaders import load_owned, new_id
from ..routing import Call, Reply, api_route
from ..schemas import Out, Request, Url

bp = Blueprint(__name__)
TAG = "webhook-endpoints"
MAX_ENDPOINTS = 10  # per account and mode: every event is delivered once per endpoint
EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]  # the schema follows the event builders' list


class EndpointCreate(Request):
    """POST /v1/webhook-endpoints."""

    url: Url = Field(description="https URL receiving the events (checked by the address guard).")
    events: list[EventType] = Field(default_factory=list, max_length=len(EVENT_TYPES),
                                    description="Event types to receive; empty or omitted: all of them.")
    description: Annotated[str, StringConstraints(max_length=200)] = ""


class ListEndpointsQuery(BaseModel):
    """Query string of GET /v1/webhook-endpoints."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(10, ge=1, le=100)
    starting_after: Annotated[str, StringConstraints(pattern=r"^we_[A-Za-z0-9]{1,64}$")] | None = Field(
        None, description="Cursor: the id of the last endpoint of the previous page."
    )


class EndpointOut(Out):
    id: str
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    url: str
    events: list[str] = Field(description="Subscribed event types; empty means all.")
    description: str
    livemode: bool
    secret: str | None = Field(description="The signing secret (whsec_…): only in the responses that create the "
                                           "endpoint or rotate its secret, null otherwise.")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then the previous secret still signs deliveries (a second signature).")
    created_at: datetime


class EndpointList(Out):
    object: Literal["list"] = "list"
    data: list[EndpointOut]
    has_more: bool


class WebhookSecretOut(Out):
    object: Literal["webhook_secret"] = "webhook_secret"
    livemode: bool
    secret: str = Field(description="Signs deliveries to projects' webhook_url in this mode (whsec_…).")
    previous_secret_expires_at: datetime | None


def _until(ring: Ring) -> datetime | None:
    active = ring.previous_until is not None and len(ring.active()) > 1
    return datetime.fromtimestamp(float(ring.previous_until), tz=UTC) if active else None  # type: ignore[arg-type]


def _out(endpoint: WebhookEndpoint, ring: Ring | None = None, *, show_secret: bool = False) -> EndpointOut:
    ring = ring or endpoint_ring(endpoint)
    created = endpoint.created_at if endpoint.created_at.tzinfo else endpoint.created_at.replace(tzinfo=UTC)
    return EndpointOut(id=endpoint.endpoint_id, url=endpoint.url, events=list(endpoint.events or []),
                       description=endpoint.description or "", livemode=livemode(endpoint.tenant),
                       secret=ring.current if show_secret else None, previous_secret_expires_at=_until(ring),
                       created_at=created)


def _load(tenant: str, endpoint_id: str) -> WebhookEndpoint:
    return load_owned(WebhookEndpoint, "webhook endpoint", tenant, endpoint_id)


@api_route(bp, "/v1/webhook-endpoints", "POST", status=201, summary="Create a webhook endpoint (secret shown once)",
           tag=TAG, request=EndpointCreate, response=EndpointOut, errors=(400, 409, 413, 415, 422))
def create_webhook_endpoint(call: Call) -> Reply:
    body: EndpointCreate = call.body
    tenant = call.principal.tenant
    screen_url(body.url, "url")
    if sum(1 for _ in WebhookEndpoint.by_tenant.query(tenant, limit=MAX_ENDPOINTS)) >= MAX_ENDPOINTS:
        raise ApiError(409, "endpoint_limit", f"At most {MAX_ENDPOINTS} webhook endpoints per account and mode; "
                                              "delete one first.")
    endpoint_id = new_id("we_")
    ring = Ring(new_secret())
    endpoint = WebhookEndpoint(endpoint_id, tenant=tenant, url=body.url, events=list(dict.fromkeys(body.events)),
                               description=body.description, sealed_secret=seal_ring(ring, endpoint_id),
                               created_at=utcnow())
    endpoint.save(condition=WebhookEndpoint.endpoint_id.does_not_exist())
    return Reply(201, _out(endpoint, ring, show_secret=True))


@api_route(bp, "/v1/webhook-endpoints", "GET", summary="List webhook endpoints, newest first", tag=TAG,
           query=ListEndpointsQuery, response=EndpointList, errors=(400, 404))
def list_webhook_endpoints(call: Call) -> Reply:
    query: ListEndpointsQuery = call.query
    tenant = call.principal.tenant
    last_key = None
    if query.starting_after:
        # a well-formed id that is not one of the caller's endpoints: 404 naming the parameter, as for projects
        cursor = load_owned(WebhookEndpoint, "webhook endpoint", tenant, query.starting_after, "starting_after")
        last_key = {"endpoint_id": {"S": cursor.endpoint_id}, "tenant": {"S": tenant},
                    "created_at": {"S": WebhookEndpoint.created_at.serialize(cursor.created_at)}}
    rows = list(WebhookEndpoint.by_tenant.query(tenant, scan_index_forward=False, last_evaluated_key=last_key,
                                                limit=query.limit + 1))
    data = [_out(e).model_dump(mode="json") for e in rows[: query.limit]]
    return Reply(200, {"object": "list", "data": data, "has_more": len(rows) > query.limit})


@api_route(bp, "/v1/webhook-endpoints/{endpoint_id}", "GET", summary="Get a webhook endpoint", tag=TAG,
           response=EndpointOut, errors=(404,))
def get_webhook_endpoint(call: Call) -> Reply:
    return Reply(200, _out(_load(call.principal.tenant, call.params["endpoint_id"])))


@api_route(bp, "/v1/webhook-endpoints/{endpoint_id}", "DELETE", status=204,
           summary="Delete a webhook endpoint (queued deliveries to it are dropped)", tag=TAG, errors=(404,))
def delete_webhook_endpoint(call: Call) -> Reply:
    endpoint = _load(call.principal.tenant, call.params["endpoint_id"])
    endpoint.delete()
    return Reply(204)


@api_route(bp, "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", "POST",
           summary="Rotate an endpoint's signing secret (the old one signs too for the overlap window)", tag=TAG,
           response=EndpointOut, errors=(404, 409, 413, 415))
def rotate_webhook_endpoint_secret(call: Call) -> Reply:
    endpoint = _load(call.principal.tenant, call.params["endpoint_id"])
    old_blob = endpoint.sealed_secret
    ring = endpoint_ring(endpoint).rotated()
    try:  # conditional on the secret we read: two rotations at once cannot both win (nor revive a deleted row)
        endpoint.update(actions=[WebhookEndpoint.sealed_secret.set(seal_ring(ring, endpoint.endpoint_id))],
                        condition=WebhookEndpoint.endpoint_id.exists() & (WebhookEndpoint.sealed_secret == old_blob))
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        raise ApiError(409, "conflict", "The endpoint changed meanwhile (rotated or deleted); try again.") from None
    return Reply(200, _out(endpoint, ring, show_secret=True))


def _secret_out(tenant: str, ring: Ring) -> WebhookSecretOut:
    return WebhookSecretOut(livemode=livemode(tenant), secret=ring.current, previous_secret_expires_at=_until(ring))


@api_route(bp, "/v1/webhook-secret", "GET", summary="The account's signing secret for projects' webhook_url",
           tag=TAG, response=WebhookSecretOut)
def get_webhook_secret(call: Call) -> Reply:
    """One secret per account and mode (ks_test_ keys see the test one)."""
    return Reply(200, _secret_out(call.principal.tenant, account_ring(call.principal.tenant)))


@api_route(bp, "/v1/webhook-secret/rotate", "POST", summary="Rotate the account's webhook_url signing secret",
           tag=TAG, response=WebhookSecretOut, errors=(413, 415))
def rotate_webhook_secret(call: Call) -> Reply:
    """A new secret for the key's mode; the previous one keeps signing for the overlap window."""
    return Reply(200, _secret_out(call.principal.tenant, rotate_account(call.principal.tenant)))
