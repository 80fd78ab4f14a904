"""Deliveries to webhook endpoints and project webhook_urls, verified with the `standardwebhooks` package."""

from __future__ import annotations

import json
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from chalicelib.data.models import Project, WebhookDelivery, WebhookEndpoint, utcnow
from chalicelib.webhooks import events
from chalicelib.webhooks.signing import parse_header, verify_signature
from chalicelib.webhooks.signing_secrets import Ring, account_ring, endpoint_ring, new_secret, seal_ring
from tests.unit.pipeline.awsenv import Receiver, drain_webhooks, make_account

pytestmark = pytest.mark.usefixtures("clean_queue")


@pytest.fixture
def receivers() -> Any:
    started = [Receiver().start() for _ in range(2)]
    yield started
    for r in started:
        r.stop()


def make_endpoint(tenant: str, url: str, event_types: list[str] | None = None) -> WebhookEndpoint:
    endpoint_id = "we_" + new_secret()[6:18].replace("/", "x").replace("+", "y")
    endpoint = WebhookEndpoint(endpoint_id, tenant=tenant, url=url, events=event_types or [],
                               sealed_secret=seal_ring(Ring(new_secret()), endpoint_id), created_at=utcnow())
    endpoint.save()
    return endpoint


def rotate(endpoint: WebhookEndpoint) -> Ring:
    ring = endpoint_ring(endpoint).rotated()
    endpoint.update(actions=[WebhookEndpoint.sealed_secret.set(seal_ring(ring, endpoint.endpoint_id))])
    return ring


def verified_by_library(secret: str, got: Any) -> dict[str, Any]:
    """The body as `standardwebhooks` verifies it (raises WebhookVerificationError otherwise)."""
    return Webhook(secret).verify(got.body, got.headers)


def test_event_fans_out_to_the_project_url_and_subscribed_endpoints(world: Any, receivers: list[Receiver]) -> None:
    account_receiver, endpoint_receiver = receivers
    make_account("fanout", "whsec_" + "QUJD" * 8)
    tenant = "fanout#live"
    project = Project("proj_fanout", tenant=tenant, account_id="fanout", webhook_url=account_receiver.url,
                      status="completed")
    project.save()
    every = make_endpoint(tenant, endpoint_receiver.url)
    make_endpoint(tenant, endpoint_receiver.url, ["project.failed"])  # not subscribed to project.completed
    make_endpoint("fanout#test", endpoint_receiver.url)  # the other mode never sees live events
    first = events.enqueue(project, "project.completed", {"event": "project.completed", "project_id": "proj_fanout"})
    drain_webhooks()

    assert len(account_receiver.received) == 1 and len(endpoint_receiver.received) == 1
    got = account_receiver.received[0]
    secret = account_ring(tenant).current
    body = verified_by_library(secret, got)
    assert body["livemode"] is True and body["project_id"] == "proj_fanout"
    assert got.headers["webhook-id"] == got.headers["Klipstar-Event-Id"] == first
    assert verify_signature(secret, got.headers["Klipstar-Signature"], got.body)
    to_endpoint = endpoint_receiver.received[0]
    assert verified_by_library(endpoint_ring(every).current, to_endpoint)["event"] == "project.completed"
    with pytest.raises(WebhookVerificationError):  # each destination has its own secret
        verified_by_library(secret, to_endpoint)
    rows = {d.endpoint_id: d for d in WebhookDelivery.by_project.query("proj_fanout")}
    assert set(rows) == {None, every.endpoint_id} and all(d.status == "delivered" for d in rows.values())


def test_after_a_rotation_both_secrets_sign_and_each_verifies(world: Any, receivers: list[Receiver]) -> None:
    receiver = receivers[0]
    make_account("rot", "whsec_" + "QUJD" * 8)
    project = Project("proj_rot", tenant="rot#test", account_id="rot", status="completed")
    project.save()
    endpoint = make_endpoint("rot#test", receiver.url)
    old = endpoint_ring(endpoint).current
    new = rotate(endpoint).current
    events.enqueue(project, "project.failed", {"event": "project.failed", "project_id": "proj_rot"})
    drain_webhooks()
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert verified_by_library(secret, got)["livemode"] is False
        assert verify_signature(secret, got.headers["Klipstar-Signature"], got.body)
    assert len(parse_header(got.headers["Klipstar-Signature"])[1]) == 2
    with pytest.raises(WebhookVerificationError):
        verified_by_library(new_secret(), got)
    tampered = type(got)(got.headers, got.body.replace(b"project.failed", b"project.complet"))
    with pytest.raises(WebhookVerificationError):
        verified_by_library(new, tampered)


def test_a_deleted_endpoint_gets_nothing(world: Any, receivers: list[Receiver]) -> None:
    receiver = receivers[0]
    make_account("gone", "whsec_" + "QUJD" * 8)
    project = Project("proj_gone", tenant="gone#live", account_id="gone", status="completed")
    project.save()
    endpoint = make_endpoint("gone#live", receiver.url)
    event_id = events.enqueue(project, "project.failed", {"event": "project.failed"})
    endpoint.delete()
    drain_webhooks()
    assert receiver.received == []
    row = WebhookDelivery.get(event_id)
    assert row.status == "failed" and row.attempts[0]["error"] == "endpoint deleted"
    assert json.loads(json.dumps(row.payload))["livemode"] is True
