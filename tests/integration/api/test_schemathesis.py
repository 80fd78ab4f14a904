"""Property-based run of the whole API against its own OpenAPI document (in-process, bounded).

schemathesis loads the document from GET /v1/openapi.json through a WSGI adapter over Chalice's
local gateway, then, per operation, generates valid and invalid requests (hypothesis) and checks:
no 5xx, documented statuses, content types and headers, bodies matching the response schemas,
and invalid input rejected with a 4xx.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.unit.api.apienv import seed_completed_project, seed_social_account

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
# An invalid body may also be refused as too large (413) before it is parsed.
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {
    "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}}})
EXAMPLES = {GenerationMode.POSITIVE: 10 * SCALE, GenerationMode.NEGATIVE: 6 * SCALE}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_api_conforms_to_its_schema(env, mode):
    from app import app

    auth = {"Authorization": f"Bearer {env.key('fuzz', 'studio')}"}
    seed_completed_project("fuzz")
    seed_social_account("fuzz", "tiktok")
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", ChaliceWSGI(app), config=CONFIG)
    checks = CHECKS + ([negative_data_rejection] if mode == GenerationMode.NEGATIVE else [])
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    calls: list[int] = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=SCALE == 1, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            env.clock.advance(3601)  # fresh rate windows: this run explores behaviour, not the limits
            response = case.call_and_validate(headers=auth, checks=checks)
            calls.append(response.status_code)

        run()
    assert len(calls) >= len(operations) and all(status < 500 for status in calls)
