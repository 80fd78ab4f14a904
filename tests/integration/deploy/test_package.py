"""`chalice package --merge-template infra/template.yaml` builds one valid SAM template (cfn-lint clean)
holding the API, the functions, tables, queues, the state machine, schedules and per-function IAM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.data.models import ALL_MODELS
from chalicelib.pipeline.functions import ASL_NUMBERS, ASL_PLACEHOLDERS, FUNCTIONS, asl_with_number_placeholders

from .conftest import ROOT, load_cfn


def test_merge_template_is_generated_from_the_models_and_functions() -> None:
    result = subprocess.run([sys.executable, "infra/build_template.py", "--check"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_accepts_the_packaged_template(packaged: dict[str, Path], stage: str) -> None:
    template = packaged[stage]
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    result = subprocess.run([cfn_lint, str(template.name)], cwd=template.parent, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _resources(packaged: dict[str, Path]) -> dict[str, Any]:
    return load_cfn(packaged["prod"])["Resources"]


def test_tables_match_the_models_with_ttl_and_pitr(packaged: dict[str, Path]) -> None:
    res = _resources(packaged)
    tables = {r["Properties"]["TableName"]["Fn::Sub"].replace("${TablePrefix}", ""): r["Properties"]
              for r in res.values() if r.get("Type") == "AWS::DynamoDB::Table"}
    assert set(tables) == {m.Meta.base_name for m in ALL_MODELS}
    for model in ALL_MODELS:
        props = tables[model.Meta.base_name]
        schema = model._get_schema()
        assert props["KeySchema"] == schema["key_schema"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert {g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])} == {
            i["index_name"] for i in schema.get("global_secondary_indexes", [])}
        has_ttl = any(type(a).__name__ == "TTLAttribute" for a in model.get_attributes().values())
        assert ("TimeToLiveSpecification" in props) == has_ttl, model.Meta.base_name


def test_queues_have_dead_letter_queues_and_workers_are_wired(packaged: dict[str, Path]) -> None:
    res = _resources(packaged)
    for name in ("WebhookQueue", "PublishQueue"):
        redrive = res[name]["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] == name.replace("Queue", "DeadLetterQueue")
    event = res["WebhookDispatcher"]["Properties"]["Events"]["WebhookDispatcherSqsEventSource"]["Properties"]
    assert event["Queue"] == {"Fn::Sub": "${WebhookQueue.Arn}"}
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    sweeper = res["Sweeper"]["Properties"]["Events"]
    assert any(e["Type"] == "Schedule" for e in sweeper.values())


def test_state_machine_substitutes_real_function_arns(packaged: dict[str, Path]) -> None:
    res = _resources(packaged)
    machine = res["PipelineStateMachine"]["Properties"]
    subs = machine["DefinitionSubstitutions"]
    assert set(ASL_PLACEHOLDERS) <= set(subs)
    for placeholder in ASL_PLACEHOLDERS:
        target = subs[placeholder]["Fn::GetAtt"][0]
        assert res[target]["Type"] == "AWS::Serverless::Function", placeholder
    for fn in FUNCTIONS:
        if fn.package == "image":
            props = res[subs[fn.placeholder]["Fn::GetAtt"][0]]["Properties"]
            assert props["PackageType"] == "Image" and props["ImageConfig"]["Command"] == [fn.handler]
    asl = (packaged["prod"].parent / machine["DefinitionUri"]).resolve()
    assert asl.read_text() == asl_with_number_placeholders((ROOT / "infra" / "pipeline.asl.json").read_text())
    # what DefinitionSubstitutions produce is JSON with numeric concurrencies
    resolved = asl.read_text()
    for name in subs:
        resolved = resolved.replace(f"${{{name}}}", "7" if name in ASL_NUMBERS else f"arn:aws:lambda:::{name}")
    assert json.loads(resolved)["States"]["Render"]["MaxConcurrency"] == 7


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy statements, conditional ones (Fn::If [cond, statement, NoValue]) included."""
    props = resource["Properties"]
    if "Policies" in props and props["Policies"] and "PolicyDocument" in props["Policies"][0]:
        found = [s for p in props["Policies"] for s in p["PolicyDocument"]["Statement"]]
    else:
        found = [s for p in props.get("Policies", []) if isinstance(p, dict) and "Statement" in p
                 for s in p["Statement"]]
    return [s["Fn::If"][1] if "Fn::If" in s else s for s in found]


def test_every_function_has_its_own_least_privilege_policy(packaged: dict[str, Path]) -> None:
    res = _resources(packaged)
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["autogen_policy"] is False
    seen_docs = []
    for logical, resource in res.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        role = resource["Properties"].get("Role")
        holder = res[role["Fn::GetAtt"][0]] if role else resource
        statements = _statements(holder)
        assert statements, logical
        for s in statements:
            actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
            assert "*" not in actions and not any(a.endswith(":*") for a in actions), (logical, s)
            if s["Resource"] == "*":
                assert all(a.startswith("xray:") for a in actions), (logical, s)
        seen_docs.append(json.dumps(statements, sort_keys=True))
    assert len(seen_docs) >= 15
    # not one shared policy: functions get different permissions
    assert len(set(seen_docs)) >= 10


def test_object_store_settings_are_parameters(packaged: dict[str, Path]) -> None:
    template = load_cfn(packaged["prod"])
    params = template["Parameters"]
    assert {"MediaBucketName", "S3EndpointUrl", "S3Region", "S3CredentialsSecretArn"} <= set(params)
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["KLIPSTAR_S3_ENDPOINT_URL"] == {"Ref": "S3EndpointUrl"}
    assert env["KLIPSTAR_S3_CREDENTIALS_SECRET"] == {"Ref": "S3CredentialsSecretArn"}
    assert template["Resources"]["MediaBucket"]["Condition"] == "UseS3"


def test_unused_uploads_expire_by_a_prefix_lifecycle_rule(packaged: dict[str, Path]) -> None:
    from chalicelib.data import storage
    from chalicelib.data.uploads import UNUSED_LIFETIME

    rules = load_cfn(packaged["prod"])["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    expiring = [rule for rule in rules if "ExpirationInDays" in rule]
    assert expiring == [{"Id": "expire-unused-uploads", "Status": "Enabled", "Prefix": "uploads/",
                         "ExpirationInDays": 3}]
    assert expiring[0]["ExpirationInDays"] > UNUSED_LIFETIME.days  # the sweeper and project creation act first
    assert storage.upload_key("acme#live", "upl_1", "talk.mp4").startswith("uploads/")
    kept = [storage.source_key("acme#live", "proj_1", "talk.mp4"), storage.transcript_key("acme#live", "proj_1"),
            storage.work_key("acme#live", "proj_1", "audio.wav"), storage.clip_prefix("acme#live", "proj_1", "c")]
    assert not any(key.startswith("uploads/") for key in kept)
