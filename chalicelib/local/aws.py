"""Create the AWS resources the service needs inside moto, from the same infra/ files used on AWS.

* tables: from chalicelib/data/models.py (infra/template.yaml is generated from the same models);
* bucket: settings.bucket;
* queues and dead-letter queues: the AWS::SQS::Queue resources of infra/template.yaml;
* Lambda functions: one fake function per pipeline step (chalicelib/pipeline/functions.py), whose
  invocations the seam (lambda_seam.py) dispatches in-process to the real handlers;
* the state machine: created through the Step Functions API from infra/pipeline.asl.json with its
  DefinitionSubstitutions filled in (moto's executor cannot see machines made through CloudFormation).

Works inside `mock_aws(config=MOTO_CONFIG)` (tests) and against a moto server (pass `endpoint_url`;
the server needs the same config: `moto.core.config.default_user_config.update(MOTO_CONFIG)` before
ThreadedMotoServer starts, and MOTO_PORT set to its port, which `provision` does).
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import yaml

from ..data import models, storage
from ..pipeline.functions import FUNCTIONS, asl_with_number_placeholders
from ..settings import Settings, get_settings
from . import dynamodb_seam, lambda_seam

INFRA = Path(__file__).resolve().parent.parent.parent / "infra"
ASL_PATH = INFRA / "pipeline.asl.json"
TEMPLATE_PATH = INFRA / "template.yaml"
MOTO_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


@dataclass
class LocalResources:
    """What was created; `env()` gives the KLIPSTAR_* variables pointing the app at it."""

    state_machine_arn: str
    queue_urls: dict[str, str]
    function_arns: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {
            "KLIPSTAR_STATE_MACHINE_ARN": self.state_machine_arn,
            "KLIPSTAR_WEBHOOK_QUEUE_URL": self.queue_urls["WebhookQueue"],
            "KLIPSTAR_WEBHOOK_DLQ_URL": self.queue_urls["WebhookDeadLetterQueue"],
            "KLIPSTAR_PUBLISH_QUEUE_URL": self.queue_urls["PublishQueue"],
        }


def load_definition(substitutions: dict[str, Any], path: Path = ASL_PATH) -> str:
    """The ASL text with every ${Name} replaced (as DefinitionSubstitutions does); must parse as JSON.

    The committed file is JSON with numeric placeholders quoted; they are unquoted first, as in the
    deployed copy (infra/package.py), so they become numbers."""
    text = asl_with_number_placeholders(path.read_text())
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(substitutions))
    if missing:
        raise KeyError(f"no substitution for {', '.join(missing)}")
    out = _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)
    json.loads(out)
    return out


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags as {"Fn::X": value}."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node)}
    return {name: loader.construct_mapping(node)}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def template_resources(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)["Resources"]  # noqa: S506 (SafeLoader subclass)


def _client(service: str, settings: Settings, endpoint_url: str | None) -> Any:
    return boto3.client(service, region_name=settings.aws_region, endpoint_url=endpoint_url or None)


def _dummy_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def create_queues(settings: Settings, endpoint_url: str | None, prefix: str) -> dict[str, str]:
    """Every AWS::SQS::Queue of the template (dead-letter queues first, redrive policies kept)."""
    sqs = _client("sqs", settings, endpoint_url or settings.sqs_endpoint_url)
    queues = {k: v for k, v in template_resources().items() if v.get("Type") == "AWS::SQS::Queue"}
    urls: dict[str, str] = {}
    arns: dict[str, str] = {}
    ordered = sorted(queues, key=lambda k: "RedrivePolicy" in queues[k].get("Properties", {}))
    for logical in ordered:
        props = queues[logical].get("Properties", {})
        attrs: dict[str, str] = {}
        for name in ("VisibilityTimeout", "MessageRetentionPeriod"):
            if name in props:
                attrs[name] = str(props[name])
        redrive = props.get("RedrivePolicy")
        if redrive:
            target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attrs["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": arns[target], "maxReceiveCount": str(redrive["maxReceiveCount"])}
            )
        name = prefix + re.sub(r"(?<!^)(?=[A-Z])", "-", logical).lower()
        url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        urls[logical] = url
        arns[logical] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return urls


def create_bucket(settings: Settings, endpoint_url: str | None) -> None:
    s3 = _client("s3", settings, endpoint_url or settings.s3_endpoint_url)
    try:
        if settings.aws_region == "us-east-1":
            s3.create_bucket(Bucket=settings.bucket)
        else:
            s3.create_bucket(
                Bucket=settings.bucket, CreateBucketConfiguration={"LocationConstraint": settings.aws_region}
            )
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_bucket_lifecycle_configuration(  # as deployed: unused uploads expire
        Bucket=settings.bucket, LifecycleConfiguration={"Rules": [storage.uploads_lifecycle_rule()]}
    )


def create_functions(settings: Settings, endpoint_url: str | None, prefix: str) -> dict[str, str]:
    """Fake Lambda functions named after the pipeline steps, mapped to their handlers by the seam."""
    iam = _client("iam", settings, endpoint_url)
    role_name = f"{prefix}lambda"
    try:
        role_arn = iam.get_role(RoleName=role_name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "lambda.amazonaws.com"}}]}
        role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam = _client("lambda", settings, endpoint_url)
    arns: dict[str, str] = {}
    code = _dummy_zip()
    for fn in FUNCTIONS:
        name = prefix + fn.name
        try:
            arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        except lam.exceptions.ResourceNotFoundException:
            arn = lam.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role_arn,
                Handler="handler.handler",
                Code={"ZipFile": code},
                Timeout=fn.timeout_s,
                MemorySize=fn.memory_mb,
            )["FunctionArn"]
        lambda_seam.register(name, fn.handler)
        arns[fn.placeholder] = arn
    return arns


def create_state_machine(
    settings: Settings, endpoint_url: str | None, prefix: str, function_arns: dict[str, str]
) -> str:
    sfn = _client("stepfunctions", settings, endpoint_url or settings.stepfunctions_endpoint_url)
    iam = _client("iam", settings, endpoint_url)
    substitutions: dict[str, Any] = {
        **function_arns,
        "RenderMaxConcurrency": settings.render_concurrency,
        "TranscribeMaxConcurrency": max(1, settings.transcribe_concurrency),
    }
    definition = load_definition(substitutions)
    role_arn = iam.get_role(RoleName=f"{prefix}lambda")["Role"]["Arn"]
    name = f"{prefix}pipeline"
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == name:
            sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=definition)
            return machine["stateMachineArn"]
    return sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)["stateMachineArn"]


def provision(
    settings: Settings | None = None, *, endpoint_url: str | None = None, prefix: str = "klipstar-local-"
) -> LocalResources:
    """Create everything (idempotent) and install the in-process seams (Lambda, atomic DynamoDB writes)."""
    settings = settings or get_settings()
    if endpoint_url:
        # moto's Step Functions executor calls Lambda at localhost:$MOTO_PORT when it runs as a server
        port = urlsplit(endpoint_url).port
        if port:
            os.environ["MOTO_PORT"] = str(port)
    lambda_seam.install()
    dynamodb_seam.install()
    models.bind_models()
    models.create_tables()
    create_bucket(settings, endpoint_url)
    queue_urls = create_queues(settings, endpoint_url, prefix)
    function_arns = create_functions(settings, endpoint_url, prefix)
    machine = create_state_machine(settings, endpoint_url, prefix, function_arns)
    return LocalResources(state_machine_arn=machine, queue_urls=queue_urls, function_arns=function_arns)
