"""The packaged template through the real SAM transform (aws-sam-translator, what CloudFormation runs
for `Transform: AWS::Serverless-2016-10-31`), offline: local artifacts are replaced by S3 URIs as
`sam deploy` does after uploading them. The result holds every function the state machine names (with
package type, memory, timeout, /tmp), the tables with their indexes and TTL, queues with DLQs and the
state machine with every substitution resolvable."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from chalicelib.data.models import ALL_MODELS
from chalicelib.pipeline.functions import ASL_NUMBERS, FUNCTIONS

from .conftest import load_cfn

ARTIFACT_KEYS = ("CodeUri", "ContentUri", "DefinitionUri")


def _managed_policies() -> dict[str, str]:
    """The managed policies SAM attaches (normally looked up through IAM)."""
    names = ["AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSXRayDaemonWriteAccess"]
    return {n: f"arn:aws:iam::aws:policy/service-role/{n}" for n in names}


def _uploaded(template: dict[str, Any], base: Path) -> dict[str, Any]:
    """What `sam deploy` sends: every local artifact (which must exist) replaced by an s3:// URI."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ARTIFACT_KEYS:
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                assert (base / props[key]).is_file(), f"{key} {props[key]} is missing next to sam.yaml"
                props[key] = f"s3://klipstar-artifacts/{Path(props[key]).name}"
    return template


@pytest.fixture(scope="module")
def transformed(packaged: dict[str, Path]) -> dict[str, Any]:
    sam = packaged["prod"]
    template = _uploaded(load_cfn(sam), sam.parent)
    params = {"MediaImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/klipstar-media:abc",
              "MediaBucketName": "klipstar-prod-media"}
    # a session with a region and no credentials: the transform only reads the pseudo parameters
    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    translator = Translator(None, Parser(), boto_session=session)
    return translator.translate(template, parameter_values=params,
                                get_managed_policy_map=_managed_policies)["Resources"]


def test_every_function_the_state_machine_names_exists_with_its_limits(transformed: dict[str, Any]) -> None:
    machine = next(r for r in transformed.values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    subs = machine["Properties"]["DefinitionSubstitutions"]
    for fn in FUNCTIONS:
        logical = subs[fn.placeholder]["Fn::GetAtt"][0]
        props = transformed[logical]["Properties"]
        assert transformed[logical]["Type"] == "AWS::Lambda::Function", fn.name
        if fn.package == "image":
            assert props["PackageType"] == "Image" and props["ImageConfig"]["Command"] == [fn.handler]
            assert props["Code"] == {"ImageUri": {"Ref": "MediaImageUri"}}
            assert props["EphemeralStorage"] == {"Size": 10240}
            assert props["MemorySize"] == fn.memory_mb and props["Timeout"] == fn.timeout_s, fn.name
        else:
            assert props.get("PackageType", "Zip") == "Zip" and props["Handler"] == fn.handler
            assert props["Code"]["S3Bucket"] == "klipstar-artifacts"


def test_state_machine_substitutions_resolve_every_placeholder(transformed: dict[str, Any],
                                                               packaged: dict[str, Path]) -> None:
    machine = next(r for r in transformed.values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    props = machine["Properties"]
    assert props["DefinitionS3Location"]["Bucket"] == "klipstar-artifacts"
    text = (packaged["prod"].parent / "pipeline.asl.json").read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", text))
    assert placeholders == set(props["DefinitionSubstitutions"])
    for name in placeholders:  # CloudFormation's part: every value a function ARN or a number parameter
        value = props["DefinitionSubstitutions"][name]
        assert value == {"Ref": name} if name in ASL_NUMBERS else value["Fn::GetAtt"][1] == "Arn", name
        text = text.replace(f"${{{name}}}", "5" if name in ASL_NUMBERS else f"arn:aws:lambda:::function:{name}")
    definition = json.loads(text)
    assert definition["States"]["Render"]["MaxConcurrency"] == 5


def test_tables_have_their_indexes_and_ttl(transformed: dict[str, Any]) -> None:
    tables = {r["Properties"]["TableName"]["Fn::Sub"].replace("${TablePrefix}", ""): r
              for r in transformed.values() if r["Type"] == "AWS::DynamoDB::Table"}
    assert set(tables) == {m.Meta.base_name for m in ALL_MODELS}
    for model in ALL_MODELS:
        table = tables[model.Meta.base_name]
        assert table["DeletionPolicy"] == "RetainExceptOnCreate"  # a failed first create leaves nothing
        props = table["Properties"]
        schema = model._get_schema()
        assert {g["IndexName"] for g in props.get("GlobalSecondaryIndexes", [])} == {
            i["index_name"] for i in schema.get("global_secondary_indexes", [])}
        ttl = [a.attr_name for a in model.get_attributes().values() if type(a).__name__ == "TTLAttribute"]
        assert props.get("TimeToLiveSpecification") == ({"AttributeName": ttl[0], "Enabled": True} if ttl else None)


def test_queues_have_dead_letter_queues_and_event_sources(transformed: dict[str, Any]) -> None:
    for name in ("WebhookQueue", "PublishQueue"):
        redrive = transformed[name]["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [name.replace("Queue", "DeadLetterQueue"), "Arn"]}
    mappings = [r["Properties"] for r in transformed.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert {json.dumps(m["EventSourceArn"]) for m in mappings} >= {
        json.dumps({"Fn::Sub": "${WebhookQueue.Arn}"}), json.dumps({"Fn::Sub": "${PublishQueue.Arn}"})}


def test_no_function_has_a_secret_in_its_environment(transformed: dict[str, Any]) -> None:
    """Secrets live in Secrets Manager: functions get ARNs only, and only the API reads the pepper."""
    functions = {k: r["Properties"] for k, r in transformed.items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) >= 15
    for logical, props in functions.items():
        env = props.get("Environment", {}).get("Variables", {})
        assert not {"KLIPSTAR_KEY_PEPPER", "KLIPSTAR_S3_SECRET_ACCESS_KEY", "KLIPSTAR_LLM_API_KEY"} & set(env), logical
        assert env["KLIPSTAR_S3_CREDENTIALS_SECRET"] == {"Ref": "S3CredentialsSecretArn"}, logical
    assert functions["APIHandler"]["Environment"]["Variables"]["KLIPSTAR_KEY_PEPPER_SECRET"] == {
        "Ref": "KeyPepperSecret"}
    readers = [k for k, r in transformed.items() if r["Type"] == "AWS::IAM::Role"
               and '{"Ref": "KeyPepperSecret"}' in json.dumps(r["Properties"].get("Policies", []))]
    assert readers == ["ApiHandlerRole"]  # Chalice names the API role ApiHandlerRole
