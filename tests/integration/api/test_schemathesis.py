"""Property-based run of the whole API against its own OpenAPI document (in-process, bounded).

schemathesis loads the document from GET /v1/openapi.json through a WSGI adapter over Chalice's
local gateway, then, per operation, generates valid and invalid requests (hypothesis) and checks:
no 5xx, documented statuses, content types and headers, bodies matching the response schemas,
invalid input rejected with a 4xx, valid input never refused as malformed (positive data acceptance:
no 400; a well-formed request the service refuses for what no schema can state, such as a URL the
address guard refuses or min_duration over max_duration, is a documented 422), and every operation
answering 2xx at least once. Path
parameters (and the project_id query parameter) are real ids of the caller's seeded resources, a
fresh one per case for DELETE, so operations reach their logic instead of answering 404. Hypothesis
health checks are on (except too_slow: the machine's speed is not what this test measures).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.unit.api.apienv import ApiEnv, seed_completed_project, seed_social_account

from .wsgi import ChaliceWSGI

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Bounded so the run stays well under a minute; API_FUZZ_SCALE=10 explores ten times as much.
SCALE = int(os.environ.get("API_FUZZ_SCALE", "1"))
# An invalid body may also be refused as too large (413) before it is parsed. A valid one may meet a
# missing resource (404), a state conflict (409), a size over this deployment's configured limits (413:
# KLIPSTAR_UPLOAD_MAX_BYTES, the body limit) or a semantic refusal (422), never 400 nor 5xx.
# The key is the test's: generated cases do not replace it (an invalid key is 401 before anything is parsed,
# so invalid bodies and parameters would never be seen; ignored_auth covers missing keys from outside).
CONFIG = SchemathesisConfig.from_dict({"generation": {"with-security-parameters": False}, "checks": {
    "negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]},
    "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 413, 422, 429]},
}})
EXAMPLES = {GenerationMode.POSITIVE: 10 * SCALE, GenerationMode.NEGATIVE: 6 * SCALE}


def negatable(operation: Any) -> bool:
    """Whether an invalid request can be made for `operation`: something besides the key to get wrong (path
    parameters are plain strings, which any path segment satisfies)."""
    return any(len(part) for part in (operation.query, operation.headers, operation.body))


class RealIds:
    """Ids of the fuzzing account's own resources, by path-parameter name (fresh ones for DELETE)."""

    def __init__(self, env: ApiEnv, key: str) -> None:
        self.env, self.key = env, key
        seeded = seed_completed_project("fuzz")
        self.project, self.clip = seeded["project_id"], seeded["clip_ids"][0]
        from chalicelib.data import storage
        from chalicelib.data.models import Project
        from chalicelib.engine.types import Transcript, Word

        words = [Word(f"w{i}.", 1 + i * 0.5 + (i // 5) * 0.6, 1.4 + i * 0.5 + (i // 5) * 0.6) for i in range(200)]
        storage.put_json(str(Project.get(self.project).transcript_key), Transcript("en", 600.0, words).to_dict())
        self.social = seed_social_account("fuzz", "tiktok")
        self.upload = self.new_upload()
        job = env.call("POST", f"/v1/projects/{self.project}/prompt", key, {"prompt": "pricing"}, tick=False)
        assert job.status == 202, job.json
        self.job = job.json["id"]
        from chalicelib.data.models import WebhookDelivery

        self.delivery = next(iter(WebhookDelivery.scan())).event_id
        self.template = self.new_template()
        self.endpoint = self.new_endpoint()

    def new_endpoint(self) -> str:
        r = self.env.call("POST", "/v1/webhook-endpoints", self.key, {"url": "https://videos.example.com/hook"},
                          tick=False)
        assert r.status == 201, r.json
        return str(r.json["id"])

    def new_template(self) -> str:
        r = self.env.call("POST", "/v1/templates", self.key, {"name": "Brand", "style": {}}, tick=False)
        assert r.status == 201, r.json
        return str(r.json["id"])

    def new_upload(self) -> str:
        r = self.env.call("POST", "/v1/uploads", self.key,
                          {"filename": "a.mp4", "content_type": "video/mp4", "size": 10}, tick=False)
        assert r.status == 201, r.json
        return str(r.json["id"])

    def known_good(self, method: str, path: str) -> dict | None:
        """A request that must succeed, for the operations random valid data practically never completes."""
        if (method, path) == ("POST", "/v1/projects"):
            return {"body": {"video_url": "https://videos.example.com/talk.mp4", "max_clips": 3}}
        if (method, path) == ("POST", "/v1/clips/{clip_id}/publish"):
            return {"path_parameters": {"clip_id": self.clip},
                    "body": {"platform": "tiktok", "account_id": self.social, "title": "Pricing", "privacy": "private"}}
        if (method, path) == ("POST", "/v1/projects/{project_id}/clips"):
            return {"path_parameters": {"project_id": self.project}, "body": {"start": 10.0, "end": 30.0}}
        if (method, path) == ("POST", "/v1/webhook-endpoints"):
            return {"body": {"url": "https://videos.example.com/hook2"}}
        if (method, path) == ("POST", "/v1/uploads/{upload_id}/complete"):
            r = self.env.call("POST", "/v1/uploads", self.key,
                              {"filename": "b.mp4", "content_type": "video/mp4", "size": 3}, tick=False)
            assert requests.put(r.json["upload_url"], data=b"abc", headers={"Content-Type": "video/mp4"},
                                timeout=10).ok
            return {"path_parameters": {"upload_id": r.json["id"]}, "body": {}}
        if (method, path) == ("POST", "/v1/projects/{project_id}/clips"):
            from chalicelib.data import storage
            from chalicelib.data.models import Project

            words = [{"text": f"w{n}", "start": 20.0 + n * 0.5, "end": 20.4 + n * 0.5} for n in range(40)]
            storage.put_json(str(Project.get(self.project).transcript_key), {"words": words})
            return {"path_parameters": {"project_id": self.project}, "body": {"start": 20.0, "end": 35.0}}
        if (method, path) == ("POST", "/v1/webhook-endpoints"):
            return {"body": {"url": "https://hooks.example.com/k2"}}
        return None

    def value(self, name: str, method: str) -> str:
        if method == "DELETE":  # each case deletes its own resource
            fresh = {"project_id": lambda: seed_completed_project("fuzz")["project_id"],
                     "account_id": lambda: seed_social_account("fuzz", "tiktok"), "upload_id": self.new_upload,
                     "template_id": self.new_template, "endpoint_id": self.new_endpoint}
            return fresh[name]()
        return {"project_id": self.project, "clip_id": self.clip, "account_id": self.social,
                "upload_id": self.upload, "job_id": self.job, "delivery_id": self.delivery,
                "template_id": self.template, "endpoint_id": self.endpoint}[name]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_api_conforms_to_its_schema(env, mode):
    from app import app

    key = env.key("fuzz", "studio")
    auth = {"Authorization": f"Bearer {key}"}
    ids = RealIds(env, key)
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", ChaliceWSGI(app), config=CONFIG)
    positive = mode == GenerationMode.POSITIVE
    checks = CHECKS + ([positive_data_acceptance] if positive else [negative_data_rejection])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    if not positive:
        operations = [operation for operation in operations if negatable(operation)]
    calls: list[tuple[str, int]] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=SCALE == 1, database=None,
                  suppress_health_check=[HealthCheck.too_slow])
        def run(case):
            env.clock.advance(3601)  # fresh rate windows: this run explores behaviour, not the limits
            if positive:
                for name in case.path_parameters or {}:
                    case.path_parameters[name] = ids.value(name, case.method)
                if case.query and "project_id" in case.query:
                    case.query["project_id"] = ids.project
            response = case.call_and_validate(headers=auth, checks=checks)
            calls.append((f"{case.method} {case.path}", response.status_code))

        run()
    if positive:  # operations random valid data cannot complete (semantic rules, a file to upload): one known-good case
        for operation in operations:
            known = ids.known_good(operation.method.upper(), operation.path)
            if known is not None:
                case = operation.Case(media_type="application/json", **known)
                response = case.call_and_validate(headers=auth, checks=checks)
                assert response.status_code < 300, (case.method, case.path, response.text)
                calls.append((f"{case.method} {case.path}", response.status_code))
    assert all(status < 500 for _, status in calls)
    if positive:  # every operation got past authentication and lookups at least once
        reached = {op for op, status in calls if status < 300}
        missed = {f"{o.method.upper()} {o.path}" for o in operations} - reached
        assert not missed, sorted(missed)
