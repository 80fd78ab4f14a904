"""The state machine definition: every Task retries transient errors with jittered backoff, has a
timeout and is caught into MarkFailed; placeholders match the functions and the merge template."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from chalicelib.local.aws import ASL_PATH, TEMPLATE_PATH, load_definition
from chalicelib.pipeline.functions import ASL_PLACEHOLDERS, FUNCTIONS

TRANSIENT = {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.SdkClientException",
             "TransientError"}
NUMBERS = {"RenderMaxConcurrency": 7, "TranscribeMaxConcurrency": 3}


def definition() -> dict[str, Any]:
    subs = {p: f"arn:aws:lambda:us-east-1:123456789012:function:{p}" for p in ASL_PLACEHOLDERS}
    return json.loads(load_definition({**subs, **NUMBERS}))


def walk(states: dict[str, Any], inside_map: bool = False) -> Iterator[tuple[str, dict[str, Any], bool]]:
    for name, state in states.items():
        yield name, state, inside_map
        if state["Type"] == "Map":
            yield from walk(state["ItemProcessor"]["States"], True)


def test_placeholders_are_exactly_the_functions_and_numbers() -> None:
    found = set(re.findall(r"\$\{(\w+)\}", ASL_PATH.read_text()))
    assert found == set(ASL_PLACEHOLDERS) | set(NUMBERS)
    assert {f.placeholder for f in FUNCTIONS} == set(ASL_PLACEHOLDERS)


def test_every_task_retries_transient_errors_with_full_jitter_and_has_a_timeout() -> None:
    tasks = [(n, s) for n, s, _ in walk(definition()["States"]) if s["Type"] == "Task"]
    assert len(tasks) >= 11
    for name, state in tasks:
        assert 0 < state["TimeoutSeconds"] <= 900, name
        retry = state["Retry"][0]
        assert set(retry["ErrorEquals"]) >= TRANSIENT, name
        assert retry["JitterStrategy"] == "FULL" and retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3, name
        assert "States.ALL" not in retry["ErrorEquals"], name  # permanent errors are not retried


def test_every_failure_path_ends_in_mark_failed() -> None:
    d = definition()
    for name, state, inside_map in walk(d["States"]):
        if state["Type"] not in {"Task", "Map"} or inside_map or name in {"MarkFailed"}:
            continue
        targets = {c["Next"] for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]}
        assert targets, f"{name} has no catch-all"
        assert targets <= {"MarkFailed", "NotifyFailed"}, name
        assert all(c["ResultPath"] == "$.error" for c in state["Catch"]), name
    assert d["States"]["MarkFailed"]["Next"] == "Failed" and d["States"]["Failed"]["Type"] == "Fail"


def test_maps_take_their_concurrency_from_the_substitutions() -> None:
    states = definition()["States"]
    assert states["Render"]["MaxConcurrency"] == 7
    assert states["PromptRender"]["MaxConcurrency"] == 7
    assert states["TranscribeChunks"]["MaxConcurrency"] == 3
    assert states["Render"]["ItemsPath"] == "$.renders"
    assert states["TranscribeChunks"]["ItemsPath"] == "$.chunks"


def test_merge_template_substitutes_every_placeholder() -> None:
    template = yaml.safe_load(TEMPLATE_PATH.read_text())
    machine = template["Resources"]["PipelineStateMachine"]["Properties"]
    assert set(machine["DefinitionSubstitutions"]) == set(ASL_PLACEHOLDERS) | set(NUMBERS)
    assert machine["DefinitionUri"] == "pipeline.asl.json"  # infra/package.py writes it next to sam.yaml
    invoked = {p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in machine["Policies"]}
    arns = {v["Fn::GetAtt"][0] for k, v in machine["DefinitionSubstitutions"].items() if k in ASL_PLACEHOLDERS}
    assert invoked == arns  # may invoke exactly the functions it names
