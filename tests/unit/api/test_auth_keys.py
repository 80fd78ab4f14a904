"""Keys: hashed storage, constant-time lookup, 401/403, live vs test tenants, the `klipstar keys` command."""

from __future__ import annotations

import hashlib
import hmac
import json

from chalicelib.cli.main import main
from chalicelib.data.keys import hash_key, lookup_key
from chalicelib.data.models import Account, ApiKey

from .apienv import PEPPER, seed_completed_project


def test_keys_are_stored_only_as_peppered_hmac(env):
    key = env.key("acme", "creator")
    assert key.startswith("ks_live_") and len(key) == len("ks_live_") + 32
    rows = list(ApiKey.scan())
    assert len(rows) == 1
    row = rows[0]
    assert row.key_hash == hmac.new(PEPPER.encode(), key.encode(), hashlib.sha256).hexdigest()
    assert row.key_hash != hashlib.sha256(key.encode()).hexdigest()
    assert key not in json.dumps(row.to_simple_dict(), default=str)
    assert row.prefix == key[:12] and row.mode == "live"
    assert Account.get("acme").plan == "creator"
    assert lookup_key(key).key_id == row.key_id
    assert lookup_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert hash_key(key) == row.key_hash


def test_missing_malformed_unknown_and_revoked_keys(env):
    key = env.key("acme")
    for headers, status, code in [
        ({}, 401, "missing_api_key"),
        ({"Authorization": f"Basic {key}"}, 401, "invalid_api_key"),
        ({"Authorization": "Bearer"}, 401, "invalid_api_key"),
        ({"Authorization": "Bearer ks_live_" + "x" * 32}, 401, "invalid_api_key"),
        ({"Authorization": "Bearer sk_live_nope"}, 401, "invalid_api_key"),
    ]:
        r = env.call("GET", "/v1/projects", headers=headers)
        assert (r.status, r.json["error"]["code"]) == (status, code)
        assert r.json["error"]["type"] == "authentication_error" and r.header("X-Request-Id")
    assert env.call("GET", "/v1/projects", key).status == 200
    key_id = ApiKey.get(hash_key(key)).key_id
    assert main(["keys", "revoke", "--account", "acme", key_id]) == 0
    r = env.call("GET", "/v1/projects", key)
    assert r.status == 403 and r.json["error"] == {
        "type": "permission_error", "code": "api_key_revoked", "message": "This API key has been revoked.",
        "param": None}


def test_live_and_test_keys_see_separate_data(env):
    live = env.key("acme", mode="live")
    test = env.key("acme", mode="test")
    assert test.startswith("ks_test_")
    seeded = seed_completed_project("acme", mode="live")
    pid = env.call("POST", "/v1/projects", test, {"video_url": "https://videos.example.com/t.mp4"}).json["id"]
    assert [p["id"] for p in env.call("GET", "/v1/projects", live).json["data"]] == [seeded["project_id"]]
    assert [p["id"] for p in env.call("GET", "/v1/projects", test).json["data"]] == [pid]
    assert env.call("GET", f"/v1/projects/{seeded['project_id']}", test).status == 404
    assert env.call("GET", f"/v1/clips/{seeded['clip_ids'][0]}", test).status == 404
    assert env.call("GET", f"/v1/projects/{pid}", live).status == 404
    assert env.execution_input(pid)["tenant"] == "acme#test"


def test_keys_command_create_list_revoke(env, capsys):
    assert main(["keys", "create", "--account", "acme", "--plan", "creator"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert key.startswith("ks_live_") and "shown only once" in out.err
    assert Account.get("acme").plan == "creator"
    assert env.call("DELETE", "/v1/projects/proj_nope", key).header("RateLimit-Limit") == "3"  # creator writes
    assert main(["keys", "create", "--account", "acme", "--mode", "test", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["key"].startswith("ks_test_") and created["mode"] == "test"
    assert main(["keys", "list", "--account", "acme", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {k["mode"] for k in listed} == {"live", "test"}
    assert key not in json.dumps(listed) and created["key"] not in json.dumps(listed)
    assert main(["keys", "list", "--account", "acme"]) == 0
    table = capsys.readouterr().out
    assert created["key_id"] in table and key not in table
    assert main(["keys", "revoke", "--account", "acme", created["key_id"]]) == 0
    assert env.call("GET", "/v1/projects", created["key"]).status == 403
    assert env.call("GET", "/v1/projects", key).status == 200
    assert main(["keys", "revoke", "--account", "other", created["key_id"]]) == 1
