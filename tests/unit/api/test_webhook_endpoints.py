"""/v1/webhook-endpoints and /v1/webhook-secret through the real Chalice app under moto."""

from __future__ import annotations

import base64
import time
from datetime import datetime

from chalicelib.data.models import Account, WebhookEndpoint
from chalicelib.webhooks.signing_secrets import account_ring, endpoint_ring

from .apienv import ApiEnv

HOOK = "https://hooks.example.com/klipstar"


def create(env: ApiEnv, key: str, **body: object):
    return env.call("POST", "/v1/webhook-endpoints", key, {"url": HOOK, **body})


def test_secret_is_shown_once_and_stored_sealed(env: ApiEnv) -> None:
    key = env.key("acme")
    resp = create(env, key, events=["project.completed", "project.failed"], description="prod hooks")
    assert resp.status == 201, resp.json
    out = resp.json
    assert out["id"].startswith("we_") and out["object"] == "webhook_endpoint" and out["livemode"] is True
    assert out["events"] == ["project.completed", "project.failed"] and out["description"] == "prod hooks"
    secret = out["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32
    row = WebhookEndpoint.get(out["id"])
    assert secret[6:] not in row.sealed_secret  # sealed, not stored in clear
    assert endpoint_ring(row).active() == [secret]
    again = env.call("GET", f"/v1/webhook-endpoints/{out['id']}", key)
    assert again.status == 200 and again.json["secret"] is None and secret.encode() not in again.body
    listed = env.call("GET", "/v1/webhook-endpoints", key)
    assert [e["id"] for e in listed.json["data"]] == [out["id"]] and secret.encode() not in listed.body


def test_list_paginates_newest_first(env: ApiEnv) -> None:
    key = env.key("acme")
    ids = []
    for n in range(3):
        ids.append(create(env, key, description=f"n{n}").json["id"])
        time.sleep(0.002)  # distinct created_at
    page = env.call("GET", "/v1/webhook-endpoints?limit=2", key).json
    assert [e["id"] for e in page["data"]] == ids[::-1][:2] and page["has_more"] is True
    rest = env.call("GET", f"/v1/webhook-endpoints?limit=2&starting_after={ids[1]}", key).json
    assert [e["id"] for e in rest["data"]] == [ids[0]] and rest["has_more"] is False
    bad = env.call("GET", "/v1/webhook-endpoints?starting_after=we_nope", key)
    assert bad.status == 404 and bad.json["error"]["param"] == "starting_after"
    malformed = env.call("GET", "/v1/webhook-endpoints?starting_after=proj_x", key)
    assert malformed.status == 400 and malformed.json["error"]["param"] == "starting_after"


def test_other_accounts_and_modes_get_404(env: ApiEnv) -> None:
    live = env.key("acme")
    endpoint_id = create(env, live).json["id"]
    for key in (env.key("acme", mode="test"), env.key("globex")):
        for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/rotate-secret")):
            resp = env.call(method, f"/v1/webhook-endpoints/{endpoint_id}{path}", key)
            assert resp.status == 404 and resp.json["error"]["code"] == "resource_missing", (method, path)
        assert env.call("GET", "/v1/webhook-endpoints", key).json["data"] == []
    test_endpoint = create(env, env.keys["acme#test"]).json
    assert test_endpoint["livemode"] is False
    assert env.call("GET", f"/v1/webhook-endpoints/{endpoint_id}", live).status == 200


def test_bad_input_names_the_field(env: ApiEnv) -> None:
    key = env.key("acme")
    refused = create(env, key, url="http://127.0.0.1:9/hook")
    assert refused.status == 422 and refused.json["error"]["code"] == "url_refused"
    assert refused.json["error"]["param"] == "url"
    unknown = create(env, key, events=["project.exploded"])
    assert unknown.status == 400 and unknown.json["error"]["param"].startswith("events")
    extra = create(env, key, secret="whsec_mine")
    assert extra.status == 400 and extra.json["error"]["param"] == "secret"
    assert env.call("GET", "/v1/webhook-endpoints", key).json["data"] == []  # nothing half-written


def test_endpoint_limit(env: ApiEnv) -> None:
    from chalicelib.api.routes.webhook_endpoints import MAX_ENDPOINTS

    key = env.key("acme")
    for _ in range(MAX_ENDPOINTS):
        assert create(env, key).status == 201
    over = create(env, key)
    assert over.status == 409 and over.json["error"]["code"] == "endpoint_limit"


def test_rotate_keeps_the_old_secret_for_the_overlap_then_delete(env: ApiEnv) -> None:
    key = env.key("acme")
    created = create(env, key).json
    rotated = env.call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret", key)
    assert rotated.status == 200, rotated.json
    new = rotated.json["secret"]
    assert new.startswith("whsec_") and new != created["secret"]
    until = datetime.fromisoformat(rotated.json["previous_secret_expires_at"]).timestamp()
    assert abs(until - (time.time() + 24 * 3600)) < 60
    ring = endpoint_ring(WebhookEndpoint.get(created["id"]))
    assert ring.active() == [new, created["secret"]]
    assert ring.active(now=until + 1) == [new]
    assert env.call("GET", f"/v1/webhook-endpoints/{created['id']}", key).json["secret"] is None
    assert env.call("DELETE", f"/v1/webhook-endpoints/{created['id']}", key).status == 204
    assert env.call("GET", f"/v1/webhook-endpoints/{created['id']}", key).status == 404
    assert env.call("POST", f"/v1/webhook-endpoints/{created['id']}/rotate-secret", key).status == 404


def test_account_secret_per_mode_read_and_rotate(env: ApiEnv) -> None:
    live, test = env.key("acme"), env.key("acme", mode="test")
    live_secret = env.call("GET", "/v1/webhook-secret", live).json
    test_secret = env.call("GET", "/v1/webhook-secret", test).json
    assert live_secret["livemode"] is True and test_secret["livemode"] is False
    assert live_secret["secret"] != test_secret["secret"]
    assert live_secret["previous_secret_expires_at"] is None
    account = Account.get("acme")
    assert live_secret["secret"][6:] not in (account.webhook_secret_live or "") and account.webhook_secret is None
    rotated = env.call("POST", "/v1/webhook-secret/rotate", live).json
    assert rotated["secret"] != live_secret["secret"] and rotated["previous_secret_expires_at"]
    assert account_ring("acme#live").active() == [rotated["secret"], live_secret["secret"]]
    assert env.call("GET", "/v1/webhook-secret", live).json["secret"] == rotated["secret"]
    assert env.call("GET", "/v1/webhook-secret", test).json == test_secret  # the other mode is untouched


def test_a_legacy_plain_secret_is_sealed_on_first_use(env: ApiEnv) -> None:
    key = env.key("acme")
    Account.get("acme").update(actions=[Account.webhook_secret.set("whsec_legacy0123456789abcdef")])
    got = env.call("GET", "/v1/webhook-secret", key).json
    assert got["secret"] == "whsec_legacy0123456789abcdef"  # receivers configured before keep working
    account = Account.get("acme", consistent_read=True)
    assert account.webhook_secret is None and account.webhook_secret_live and account.webhook_secret_test


def test_events_reach_the_tenants_endpoints_and_show_in_the_delivery_log(env: ApiEnv) -> None:
    from chalicelib.data.models import Project, WebhookDelivery
    from chalicelib.webhooks import events

    from .apienv import seed_completed_project

    key = env.key("acme")
    endpoint_id = create(env, key, events=["project.completed"]).json["id"]
    create(env, key, events=["clip.published"])  # not subscribed
    create(env, env.key("acme", mode="test"))  # the other mode
    seeded = seed_completed_project("acme")
    project = Project.get(seeded["project_id"])
    event_id = events.enqueue(project, "project.completed", events.project_completed(project))
    assert WebhookDelivery.get(event_id).endpoint_id == endpoint_id  # the project has no webhook_url
    assert WebhookDelivery.get(event_id).payload["livemode"] is True
    log = env.call("GET", f"/v1/webhooks/deliveries?project_id={project.project_id}", key).json["data"]
    mine = [d for d in log if d["id"] == event_id]
    assert mine and mine[0]["endpoint_id"] == endpoint_id and mine[0]["url"] == HOOK
    assert sum(1 for d in log if d["endpoint_id"]) == 1  # one endpoint subscribed in this mode
