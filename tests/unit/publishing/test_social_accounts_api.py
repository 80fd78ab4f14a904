"""POST/GET/DELETE /v1/social-accounts through the real Chalice app under moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.data.models import SocialAccount
from chalicelib.publishing.tokens import decrypt_tokens, generate_local_key
from tests.unit.api.apienv import ApiEnv, api_env, aws_world

ACCESS = "ya29.a0-VERY-SECRET-ACCESS"
REFRESH = "1//0g-VERY-SECRET-REFRESH"


@pytest.fixture(scope="module")
def aws_role() -> Iterator[str]:
    with aws_world() as role:
        yield role


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, aws_role: str) -> Iterator[ApiEnv]:
    """The API helper's moto-backed app environment, with a local token key."""
    with api_env(monkeypatch, aws_role, token_encryption_key=generate_local_key()) as e:
        yield e


def connect(env: ApiEnv, key: str, **body: object):
    payload = {"platform": "youtube", "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600,
               "display_name": "Klip Channel", "channel_id": "UC123"}
    payload.update(body)
    return env.call("POST", "/v1/social-accounts", key, payload)


def test_connect_stores_tokens_encrypted_and_never_returns_them(env):
    key = env.key("acme")
    resp = connect(env, key)
    assert resp.status == 201, resp.json
    out = resp.json
    assert out["id"].startswith("sa_") and out["platform"] == "youtube" and out["has_refresh_token"]
    assert out["token_expires_at"] is not None
    assert b"SECRET" not in resp.body
    row = SocialAccount.get(out["id"])
    assert "SECRET" not in row.encrypted_tokens
    tokens = decrypt_tokens(row.encrypted_tokens, out["id"])
    assert tokens["access_token"] == ACCESS and tokens["refresh_token"] == REFRESH
    assert tokens["extra"] == {"channel_id": "UC123"}

    listed = env.call("GET", "/v1/social-accounts", key)
    assert listed.status == 200 and [a["id"] for a in listed.json["data"]] == [out["id"]]
    assert b"SECRET" not in listed.body
    one = env.call("GET", f"/v1/social-accounts/{out['id']}", key)
    assert one.status == 200 and one.json == out


def test_platform_specific_fields_are_required(env):
    key = env.key("acme")
    resp = connect(env, key, platform="tiktok", refresh_token=None)
    assert resp.status == 400 and resp.json["error"]["param"] == "refresh_token"
    resp = connect(env, key, platform="instagram", refresh_token=None)
    assert resp.status == 400 and resp.json["error"]["param"] == "ig_user_id"
    resp = connect(env, key, platform="instagram", refresh_token=None, ig_user_id="17841400000000001")
    assert resp.status == 201 and resp.json["has_refresh_token"] is False
    resp = connect(env, key, platform="myspace")
    assert resp.status == 400 and resp.json["error"]["param"] == "platform"
    resp = connect(env, key, password="hunter2")
    assert resp.status == 400 and resp.json["error"]["code"] == "unknown_field"
    assert b"SECRET" not in resp.body


def test_accounts_are_tenant_scoped_and_deletable(env):
    a, b = env.key("acme"), env.key("globex")
    sa = connect(env, a).json["id"]
    assert env.call("GET", f"/v1/social-accounts/{sa}", b).status == 404
    assert env.call("DELETE", f"/v1/social-accounts/{sa}", b).status == 404
    assert env.call("GET", "/v1/social-accounts", b).json["data"] == []
    test_key = env.key("acme", mode="test")  # ks_test_ keys see separate data
    assert env.call("GET", f"/v1/social-accounts/{sa}", test_key).status == 404
    assert env.call("DELETE", f"/v1/social-accounts/{sa}", a).status == 204
    assert env.call("GET", f"/v1/social-accounts/{sa}", a).status == 404
    with pytest.raises(SocialAccount.DoesNotExist):
        SocialAccount.get(sa)


def test_requires_a_key(env):
    assert env.call("GET", "/v1/social-accounts").status == 401
