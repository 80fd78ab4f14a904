"""The moto seam: Lambda invocations run our handlers in-process; exceptions come back as
x-amz-function-error {errorType, errorMessage}, which the real ASL executor retries/catches by name."""

from __future__ import annotations

import json
from typing import Any

import boto3

from chalicelib.engine.errors import NoSpeech, TransientError
from chalicelib.local import lambda_seam
from chalicelib.pipeline.mark_failed import error_from
from tests.unit.pipeline.awsenv import history, wait_execution

RETRY = [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3,
          "JitterStrategy": "FULL"}]


def _function(name: str, handler: Any) -> str:
    lam = boto3.client("lambda", region_name="us-east-1")
    arn = lam.get_function(FunctionName="klipstar-local-notify")["Configuration"]["Role"]
    created = lam.create_function(FunctionName=name, Runtime="python3.11", Role=arn, Handler="h.h",
                                  Code={"ZipFile": _zip()})
    lambda_seam.register(name, handler)
    return created["FunctionArn"]


def _zip() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("h.py", "def h(e, c):\n    return e\n")
    return buf.getvalue()


def _run(definition: dict[str, Any], name: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = boto3.client("iam", region_name="us-east-1").get_role(RoleName="klipstar-local-lambda")["Role"]["Arn"]
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(payload))["executionArn"]
    return wait_execution(arn, 60), arn


def test_direct_invoke_returns_result_or_function_error(world: Any) -> None:
    def ok(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"doubled": event["n"] * 2, "fn": context.function_name}

    def boom(event: dict[str, Any], context: Any) -> None:
        raise NoSpeech("no speech was found in the audio")

    _function("seam-ok", ok)
    _function("seam-boom", boom)
    lam = boto3.client("lambda", region_name="us-east-1")
    out = lam.invoke(FunctionName="seam-ok", Payload=json.dumps({"n": 21}))
    assert "FunctionError" not in out and json.loads(out["Payload"].read()) == {"doubled": 42, "fn": "seam-ok"}
    err = lam.invoke(FunctionName="seam-boom", Payload=b"{}")
    assert err["FunctionError"] == "Unhandled"
    body = json.loads(err["Payload"].read())
    assert body["errorType"] == "NoSpeech" and body["errorMessage"] == "no speech was found in the audio"


def test_retry_matches_transient_error_by_name_and_catch_gets_engine_errors(world: Any) -> None:
    calls = {"flaky": 0}

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls["flaky"] += 1
        if calls["flaky"] <= 2:
            raise TransientError("throttled")
        return {**event, "flaky": "ok"}

    def permanent(event: dict[str, Any], context: Any) -> None:
        raise NoSpeech("no speech was found in the audio")

    flaky_arn = _function("seam-flaky", flaky)
    perm_arn = _function("seam-permanent", permanent)
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
    definition = {"StartAt": "Flaky", "States": {
        "Flaky": {"Type": "Task", "Resource": flaky_arn, "Retry": RETRY, "Catch": catch, "Next": "Permanent"},
        "Permanent": {"Type": "Task", "Resource": perm_arn, "Retry": RETRY, "Catch": catch, "End": True},
        "Caught": {"Type": "Pass", "End": True}}}
    desc, arn = _run(definition, "seam-retry", {"project_id": "p"})
    assert desc["status"] == "SUCCEEDED"
    assert calls["flaky"] == 3  # failed twice, retried, succeeded
    out = json.loads(desc["output"])
    assert out["flaky"] == "ok"
    assert out["error"]["Error"] == "NoSpeech"  # not retried (only TransientError is), caught by name
    assert error_from(out["error"]) == ("no_speech", "no speech was found in the audio")
    failed = [e for e in history(arn) if e["type"] == "LambdaFunctionFailed"]
    assert len(failed) == 3  # two transient failures + one permanent


def test_unknown_function_and_internal_errors_do_not_leak() -> None:
    payload, kind = lambda_seam.invoke_local("no-such-function", {})
    assert kind == "Unhandled" and json.loads(payload)["errorType"] == "ResourceNotFoundException"
    code, message = error_from({"Error": "KeyError", "Cause": json.dumps({"errorMessage": "'secret_key'"})})
    assert code == "internal_error" and "secret" not in message
    assert error_from({"Error": "States.Timeout", "Cause": ""})[0] == "timeout"
