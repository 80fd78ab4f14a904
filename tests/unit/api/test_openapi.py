"""The OpenAPI 3.1 document: valid, generated from the real route table, and matched by real responses."""

from __future__ import annotations

import re

import jsonschema
import requests
from openapi_spec_validator import validate as validate_spec

from chalicelib.api.routing import ROUTES

from .apienv import seed_completed_project, seed_social_account


def _doc(env):
    r = env.call("GET", "/v1/openapi.json")  # no key needed
    assert r.status == 200 and r.header("X-Request-Id")
    return r.json


def test_document_is_valid_openapi_31_and_covers_every_route(env):
    from app import app

    doc = _doc(env)
    assert doc["openapi"] == "3.1.0"
    validate_spec(doc)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    ours = {(s.method, s.path) for s in ROUTES}
    assert documented == ours
    served = {(m, p) for p, methods in app.routes.items() for m in methods if p.startswith("/v1/")}
    assert ours <= served
    assert {(m, p) for m, p in served if p.startswith(("/v1/projects", "/v1/clips", "/v1/uploads"))} <= ours
    create = doc["paths"]["/v1/projects"]["post"]
    schema = doc["components"]["schemas"]["ProjectCreate"]
    assert schema["additionalProperties"] is False and schema["properties"]["max_clips"]["maximum"] == 50
    assert {"201", "400", "401", "403", "409", "413", "415", "422", "429", "500"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert doc["paths"]["/v1/openapi.json"]["get"]["security"] == []


class Checker:
    """Validates live responses against the document."""

    def __init__(self, doc):
        self.doc = doc
        self.seen: set[tuple[str, str, int]] = set()

    def _template(self, method, path):
        path = path.split("?")[0]
        for template, ops in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method.lower() in ops:
                return template, ops[method.lower()]
        raise AssertionError(f"undocumented {method} {path}")

    def check(self, method, path, r):
        template, op = self._template(method, path)
        spec = op["responses"].get(str(r.status))
        assert spec is not None, f"{method} {template} returned undocumented {r.status}"
        for name, header in spec.get("headers", {}).items():
            if header.get("required"):
                assert r.header(name), f"{name} missing on {method} {template} {r.status}"
        if "content" in spec:
            schema = {**spec["content"]["application/json"]["schema"], "components": self.doc["components"]}
            jsonschema.Draft202012Validator(schema).validate(r.json)
        else:
            assert r.body == b""
        self.seen.add((method, template, r.status))
        return r


def test_real_responses_match_the_document(env):
    doc = _doc(env)
    c = Checker(doc)
    key = env.key("acme", "studio")
    other = env.key("bravo", "spark")

    def call(method, path, body=None, k=key, **kw):
        return c.check(method, path, env.call(method, path, k, body, **kw))

    pid = call("POST", "/v1/projects", {"video_url": "https://videos.example.com/a.mp4",
                                        "metadata": {"a": "b"}}).json["id"]
    call("GET", f"/v1/projects/{pid}")
    call("GET", "/v1/projects?limit=1")
    call("POST", f"/v1/projects/{pid}/prompt", {"prompt": "x"})  # 409
    seeded = seed_completed_project("acme")
    call("GET", f"/v1/projects/{seeded['project_id']}")
    call("POST", f"/v1/projects/{seeded['project_id']}/prompt", {"prompt": "pricing"})
    clip = seeded["clip_ids"][0]
    call("GET", f"/v1/clips/{clip}")
    sa = seed_social_account("acme", "tiktok")
    call("POST", f"/v1/clips/{clip}/publish", {"platform": "tiktok", "account_id": sa})
    call("POST", f"/v1/clips/{seeded['clip_ids'][1]}/publish", {"platform": "reels", "account_id": sa})  # 422
    call("GET", f"/v1/clips/{clip}/publications")
    up = call("POST", "/v1/uploads", {"filename": "a.mp4", "content_type": "video/mp4", "size": 3}).json
    requests.put(up["upload_url"], data=b"abc", headers={"Content-Type": "video/mp4"}, timeout=5)
    call("POST", f"/v1/uploads/{up['id']}/complete")
    call("POST", "/v1/projects", {"bogus": 1})  # 400
    call("POST", "/v1/projects", raw=b"x" * 70_000, headers={"Content-Type": "application/json"})  # 413
    call("POST", "/v1/projects", raw=b"x", headers={"Content-Type": "text/csv"})  # 415
    call("GET", "/v1/projects", k=None)  # 401
    call("GET", "/v1/projects/proj_nope")  # 404
    call("DELETE", "/v1/projects/proj_nope", k=other, tick=False)
    call("DELETE", "/v1/projects/proj_nope", k=other, tick=False)  # 429 (writes)
    call("POST", "/v1/projects", {"video_url": "https://videos.example.com/b.mp4"}, headers={"Idempotency-Key": "i"})
    call("POST", "/v1/projects", {"video_url": "https://videos.example.com/c.mp4"}, headers={"Idempotency-Key": "i"})
    call("DELETE", f"/v1/projects/{pid}")  # 204
    statuses = {s for _, _, s in c.seen}
    assert statuses >= {200, 201, 202, 204, 400, 401, 404, 409, 413, 415, 422, 429}
