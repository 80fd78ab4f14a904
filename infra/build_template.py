"""Generate infra/template.yaml, the merge template for `chalice package --merge-template`.

Generated (not hand-written) so the DynamoDB tables always match chalicelib/data/models.py and the
container-image functions match chalicelib/pipeline/functions.py; tests fail if the committed file is
stale. Run: `python infra/build_template.py` (writes infra/template.yaml) or `--check`.

What the merge adds to Chalice's SAM template:
  * Parameters for the object store (S3 or Cloudflare R2), table prefix, image URI, concurrency;
  * DynamoDB tables (indexes, TTL, point-in-time recovery), the S3 bucket (only when not on R2);
  * SQS queues with dead-letter queues; the webhook dispatcher wired to its queue;
  * the media functions (one container image, one function per pipeline step);
  * the Step Functions state machine from infra/pipeline.asl.json with its ARNs substituted;
  * least-privilege IAM policies per function (Chalice's lists are replaced wholesale, so each role's
    full policy list is written here, including the CloudWatch Logs statement).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.api.errors import gateway_responses  # noqa: E402
from chalicelib.data import storage  # noqa: E402
from chalicelib.data.models import ALL_MODELS  # noqa: E402
from chalicelib.pipeline.functions import FUNCTIONS  # noqa: E402

TEMPLATE = ROOT / "infra" / "template.yaml"
ASL_URI = "pipeline.asl.json"  # next to sam.yaml: infra/package.py writes it there, numbers unquoted


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def getatt(resource: str, attr: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, attr]}


# --- parameters -------------------------------------------------------------------------------------

PARAMETERS: dict[str, Any] = {
    "KlipstarEnv": {"Type": "String", "Default": "prod", "AllowedValues": ["dev", "prod"],
                    "Description": "KLIPSTAR_ENV of the media functions (Chalice sets its functions' per stage)."},
    "TablePrefix": {"Type": "String", "Default": "klipstar-dev-", "Description": "Prefix of every table name."},
    "MediaBucketName": {"Type": "String", "Description": "Bucket for sources, transcripts and clips (S3 or R2)."},
    "S3EndpointUrl": {
        "Type": "String",
        "Default": "",
        "Description": "Empty for AWS S3 (the template creates the bucket); "
        "https://<account>.r2.cloudflarestorage.com for Cloudflare R2.",
    },
    "S3Region": {"Type": "String", "Default": "auto", "Description": "SigV4 region for the object store (R2: auto)."},
    "S3CredentialsSecretArn": {
        "Type": "String", "Default": "",
        "Description": "R2: ARN of a Secrets Manager secret {access_key_id, secret_access_key} (empty on S3: IAM).",
    },
    "Scorer": {"Type": "String", "Default": "local", "AllowedValues": ["local", "openai", "bedrock"],
               "Description": "Scoring backend (KLIPSTAR_SCORER); bedrock adds bedrock:InvokeModel to the scorers."},
    "LlmApiKeySecretArn": {"Type": "String", "Default": "",
                           "Description": "openai scorer: ARN of the Secrets Manager secret holding the API key."},
    "SchedulerGroup": {"Type": "String", "Default": "default",
                       "Description": "EventBridge Scheduler group of scheduled publications (must exist)."},
    "MediaImageUri": {"Type": "String", "Description": "ECR URI of the image built from infra/Dockerfile."},
    "RenderMaxConcurrency": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 100},
    "TranscribeMaxConcurrency": {"Type": "Number", "Default": 8, "MinValue": 1, "MaxValue": 100},
}

CONDITIONS: dict[str, Any] = {
    "UseS3": {"Fn::Equals": [ref("S3EndpointUrl"), ""]},
    "HasS3Credentials": {"Fn::Not": [{"Fn::Equals": [ref("S3CredentialsSecretArn"), ""]}]},
    "HasLlmApiKey": {"Fn::Not": [{"Fn::Equals": [ref("LlmApiKeySecretArn"), ""]}]},
    "UseBedrock": {"Fn::Equals": [ref("Scorer"), "bedrock"]},
}
# Resources kept when the stack is deleted, but removed when the first create fails (so a retry works).
RETAIN = {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"}

GLOBAL_ENV: dict[str, Any] = {
    "KLIPSTAR_ENV": ref("KlipstarEnv"),
    "KLIPSTAR_TABLE_PREFIX": ref("TablePrefix"),
    "KLIPSTAR_AWS_REGION": ref("AWS::Region"),
    "KLIPSTAR_BUCKET": ref("MediaBucketName"),
    "KLIPSTAR_S3_ENDPOINT_URL": ref("S3EndpointUrl"),
    "KLIPSTAR_S3_REGION": {"Fn::If": ["UseS3", ref("AWS::Region"), ref("S3Region")]},
    # secrets: only their ARNs; chalicelib.secrets reads the values at cold start (no secret in env vars)
    "KLIPSTAR_S3_CREDENTIALS_SECRET": ref("S3CredentialsSecretArn"),
    "KLIPSTAR_SCORER": ref("Scorer"),
    "KLIPSTAR_LLM_API_KEY_SECRET": ref("LlmApiKeySecretArn"),
    "KLIPSTAR_SCHEDULER_GROUP": ref("SchedulerGroup"),
    "KLIPSTAR_WEBHOOK_QUEUE_URL": ref("WebhookQueue"),
    "KLIPSTAR_WEBHOOK_DLQ_URL": ref("WebhookDeadLetterQueue"),
    "KLIPSTAR_PUBLISH_QUEUE_URL": ref("PublishQueue"),
    "KLIPSTAR_PUBLISH_QUEUE_ARN": getatt("PublishQueue", "Arn"),
    "KLIPSTAR_SCHEDULER_ROLE_ARN": getatt("PublishSchedulerRole", "Arn"),
    "KLIPSTAR_KMS_KEY_ID": ref("TokensKey"),
    "POWERTOOLS_METRICS_NAMESPACE": "Klipstar",
}


# --- tables -----------------------------------------------------------------------------------------


def table_logical_id(base: str) -> str:
    return camel(base) + "Table"


def table_resource(model: Any) -> dict[str, Any]:
    schema = model._get_schema()
    props: dict[str, Any] = {
        "TableName": sub("${TablePrefix}" + model.Meta.base_name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": sorted(
            {d["AttributeName"]: d for d in schema["attribute_definitions"]}.values(),
            key=lambda d: d["AttributeName"],
        ),
        "KeySchema": schema["key_schema"],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    }
    gsis = []
    for index in schema.get("global_secondary_indexes", []):
        keys = sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH")
        gsis.append({"IndexName": index["index_name"], "KeySchema": keys, "Projection": {"ProjectionType": "ALL"}})
    if gsis:
        props["GlobalSecondaryIndexes"] = gsis
    ttl = [name for name, attr in model.get_attributes().items() if type(attr).__name__ == "TTLAttribute"]
    if ttl:
        props["TimeToLiveSpecification"] = {"AttributeName": model.get_attributes()[ttl[0]].attr_name, "Enabled": True}
    return {"Type": "AWS::DynamoDB::Table", **RETAIN, "Properties": props}


def table_arns(*bases: str) -> list[Any]:
    """ARNs of the tables and their indexes."""
    out: list[Any] = []
    for base in bases:
        out.append(getatt(table_logical_id(base), "Arn"))
        out.append(sub(f"${{{table_logical_id(base)}.Arn}}/index/*"))
    return out


# --- IAM --------------------------------------------------------------------------------------------

LOGS = {
    "Effect": "Allow",
    "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
    "Resource": sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"),
}
XRAY = {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"}
READ = ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"]
WRITE = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
BUCKET_ARN = sub("arn:${AWS::Partition}:s3:::${MediaBucketName}")
OBJECTS_ARN = sub("arn:${AWS::Partition}:s3:::${MediaBucketName}/*")


def ddb(actions: list[str], *tables: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": table_arns(*tables)}


def get_secret(param: str, condition: str) -> dict[str, Any]:
    """GetSecretValue on the one secret a parameter names, only when it is set."""
    stmt = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ref(param)}
    return {"Fn::If": [condition, stmt, ref("AWS::NoValue")]}


def uploads_lifecycle_rule() -> dict[str, Any]:
    """storage.uploads_lifecycle_rule() in CloudFormation's shape: objects under uploads/ expire."""
    rule = storage.uploads_lifecycle_rule()
    return {"Id": rule["ID"], "Status": rule["Status"], "Prefix": rule["Filter"]["Prefix"],
            "ExpirationInDays": rule["Expiration"]["Days"]}


def s3(*actions: str) -> list[dict[str, Any]]:
    """Object actions on the media bucket (unused on R2, whose keys come from the credentials secret)."""
    object_actions = [f"s3:{a}" for a in actions if a != "ListBucket"]
    stmts: list[dict[str, Any]] = [{"Effect": "Allow", "Action": object_actions, "Resource": OBJECTS_ARN},
                                   get_secret("S3CredentialsSecretArn", "HasS3Credentials")]
    if "ListBucket" in actions:
        stmts.append({"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": BUCKET_ARN})
    return stmts


def sqs_send(*queues: str) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": [getatt(q, "Arn") for q in queues]}


EVENTS_OUT = [
    ddb(["dynamodb:PutItem"], "webhook-deliveries"),
    ddb(READ, "accounts", "webhook-endpoints"),
    sqs_send("WebhookQueue"),
]
PROJECT_RW = ddb([*READ, "dynamodb:UpdateItem"], "projects")
STOPPED = {"Effect": "Allow", "Action": ["states:DescribeExecution"],
           "Resource": sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:*")}
SLOT = ddb(["dynamodb:UpdateItem"], "rate-counters")
# the scorers (score, prompt_search): an LLM key from Secrets Manager, or Bedrock when Scorer=bedrock
LLM = [
    get_secret("LlmApiKeySecretArn", "HasLlmApiKey"),
    {"Fn::If": ["UseBedrock", {
        "Effect": "Allow", "Action": ["bedrock:InvokeModel"],
        "Resource": [sub("arn:${AWS::Partition}:bedrock:*::foundation-model/*"),
                     sub("arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/*")]},
        ref("AWS::NoValue")]},
]
PEPPER = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": ref("KeyPepperSecret")}

TOKENS_KMS = {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": getatt("TokensKey", "Arn")}
SCHEDULE = [
    {"Effect": "Allow", "Action": ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
     "Resource": sub("arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${SchedulerGroup}/*")},
    {"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": getatt("PublishSchedulerRole", "Arn")},
]

POLICIES: dict[str, list[dict[str, Any]]] = {
    # Chalice functions (zip)
    "finalize": [STOPPED, PROJECT_RW, SLOT, ddb(READ + WRITE, "clips"), *s3("GetObject", "DeleteObject", "ListBucket")],
    "notify": [ddb(READ, "projects", "clips"), *EVENTS_OUT],
    "mark_failed": [PROJECT_RW, SLOT, ddb([*READ, "dynamodb:UpdateItem"], "prompt-jobs", "clips"), *EVENTS_OUT],
    "prompt_finalize": [STOPPED, ddb(READ, "projects"), ddb([*READ, "dynamodb:UpdateItem"], "prompt-jobs"),
                        ddb(READ + WRITE, "clips"), *s3("GetObject", "DeleteObject", "ListBucket"), *EVENTS_OUT],
    "edit_finalize": [STOPPED, ddb(READ, "projects"), ddb([*READ, "dynamodb:UpdateItem"], "clips"),
                      *s3("GetObject", "DeleteObject", "ListBucket"), *EVENTS_OUT],
    "sweeper": [PROJECT_RW, SLOT,  # in-flight projects: Query on the sparse index (PROJECT_RW); Scan: expired
                ddb(["dynamodb:Scan"], "projects", "clips"),  # sources and stuck clip edits
                ddb([*READ, "dynamodb:UpdateItem"], "clips"), *EVENTS_OUT, STOPPED,
                ddb(["dynamodb:Scan", "dynamodb:DeleteItem"], "uploads"),
                *s3("DeleteObject", "ListBucket", "AbortMultipartUpload")],
    "webhook_dispatcher": [
        ddb([*READ, "dynamodb:UpdateItem"], "webhook-deliveries", "accounts"),  # accounts: seal a first secret
        ddb(READ, "webhook-endpoints"),
        TOKENS_KMS,  # signing secrets are sealed like social tokens
        *s3("GetObject"),
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                        "sqs:GetQueueAttributes"], "Resource": getatt("WebhookQueue", "Arn")},
        sqs_send("WebhookDeadLetterQueue"),
    ],
    "publish_worker": [
        ddb([*READ, *WRITE], "publications", "social-accounts"),
        ddb(READ, "clips", "projects"),
        *s3("GetObject"),
        TOKENS_KMS, *SCHEDULE,
        {"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                        "sqs:GetQueueAttributes"], "Resource": getatt("PublishQueue", "Arn")},
        sqs_send("PublishQueue"),
        *EVENTS_OUT,
    ],
    "publish_maintenance": [
        ddb([*READ, "dynamodb:Scan", "dynamodb:UpdateItem"], "publications", "social-accounts"),
        ddb(READ, "projects"),
        TOKENS_KMS, *SCHEDULE,
        sqs_send("PublishQueue"),
        *EVENTS_OUT,
    ],
    "api_handler": [
        ddb(READ + WRITE, "accounts", "api-keys", "projects", "clips", "prompt-jobs", "publications",
            "social-accounts", "rate-counters", "webhook-deliveries", "uploads", "idempotency",
            "webhook-endpoints", "templates"),
        *s3("GetObject", "PutObject", "DeleteObject", "ListBucket", "AbortMultipartUpload"),
        {"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": ref("PipelineStateMachine")},
        {"Effect": "Allow", "Action": ["states:StopExecution", "states:DescribeExecution"],
         "Resource": sub("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"
                         "${PipelineStateMachine.Name}:*")},
        sqs_send("WebhookQueue", "PublishQueue"),
        TOKENS_KMS, *SCHEDULE, PEPPER,
    ],
    # container-image functions
    "ingest": [STOPPED, PROJECT_RW, *s3("GetObject", "PutObject", "DeleteObject", "ListBucket")],
    "transcribe_plan": [STOPPED, PROJECT_RW, *s3("GetObject")],
    "transcribe_chunk": [STOPPED, ddb(READ, "projects"), *s3("GetObject", "PutObject", "DeleteObject", "ListBucket")],
    "transcribe_merge": [STOPPED, PROJECT_RW, *s3("GetObject", "PutObject", "DeleteObject", "ListBucket")],
    "score": [STOPPED, PROJECT_RW, *s3("GetObject", "PutObject", "DeleteObject", "ListBucket"), *LLM],
    "render": [STOPPED, PROJECT_RW, ddb(READ, "prompt-jobs"), *s3("GetObject", "PutObject", "DeleteObject",
                                                                     "ListBucket")],
    "edit_plan": [STOPPED, ddb(READ, "projects", "clips"), *s3("GetObject", "PutObject", "DeleteObject", "ListBucket")],
    "prompt_search": [STOPPED, ddb(READ, "projects", "prompt-jobs"), *s3("GetObject", "PutObject", "DeleteObject",
                                                                  "ListBucket"), *LLM],
}

def chalice_logical_id(name: str) -> str:
    return "APIHandler" if name == "api_handler" else camel(name)


def function_logical_id(fn: Any) -> str:
    """The template resource of a pipeline function: ours for image functions, Chalice's for zip ones."""
    return camel(fn.name) + "Function" if fn.package == "image" else chalice_logical_id(fn.name)


def build() -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for model in ALL_MODELS:
        resources[table_logical_id(model.Meta.base_name)] = table_resource(model)

    resources["MediaBucket"] = {
        "Type": "AWS::S3::Bucket",
        "Condition": "UseS3",
        **RETAIN,
        "Properties": {
            "BucketName": ref("MediaBucketName"),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True, "BlockPublicPolicy": True,
                "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "LifecycleConfiguration": {"Rules": [
                {"Id": "abort-incomplete-multipart", "Status": "Enabled",
                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
                uploads_lifecycle_rule()]},
        },
    }
    for name, visibility in (("Webhook", 720), ("Publish", 5400)):
        resources[f"{name}DeadLetterQueue"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        }
        resources[f"{name}Queue"] = {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": visibility,
                "MessageRetentionPeriod": 345600,
                "SqsManagedSseEnabled": True,
                "RedrivePolicy": {"deadLetterTargetArn": getatt(f"{name}DeadLetterQueue", "Arn"),
                                  "maxReceiveCount": 30},
            },
        }

    resources["KeyPepperSecret"] = {
        "Type": "AWS::SecretsManager::Secret",
        **RETAIN,
        "Properties": {
            "Description": "Klipstar: server-side pepper of API key hashes (losing it invalidates every key)",
            "GenerateSecretString": {"PasswordLength": 48, "ExcludePunctuation": True},
        },
    }
    resources["TokensKey"] = {
        "Type": "AWS::KMS::Key",
        **RETAIN,
        "Properties": {
            "Description": "Klipstar: envelope encryption of social accounts' tokens and webhook signing secrets",
            "EnableKeyRotation": True,
            "KeyPolicy": {"Version": "2012-10-17", "Statement": [
                {"Sid": "AccountAdmin", "Effect": "Allow",
                 "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
                 "Action": "kms:*", "Resource": "*"}]},
        },
    }
    resources["PublishSchedulerRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "SendToPublishQueue", "PolicyDocument": {"Version": "2012-10-17",
                          "Statement": [sqs_send("PublishQueue")]}}],
        },
    }

    # Chalice's zip functions: precise policies on their roles, the dispatcher on its queue.
    for fn, statements in POLICIES.items():
        if fn in {f.name for f in FUNCTIONS if f.package == "image"}:
            continue
        role = camel(fn) + "Role"  # Chalice's per-function role (autogen_policy false + iam_policy_file)
        resources[role] = {"Properties": {"Policies": [
            {"PolicyName": f"{role}Policy",
             "PolicyDocument": {"Version": "2012-10-17", "Statement": [LOGS, XRAY, *statements]}}]}}
    resources["WebhookDispatcher"] = {"Properties": {"Events": {"WebhookDispatcherSqsEventSource": {
        "Type": "SQS",
        # Chalice writes the queue as Fn::Sub of a name; the merge replaces that string in place
        "Properties": {"Queue": sub("${WebhookQueue.Arn}"), "BatchSize": 10,
                       "MaximumBatchingWindowInSeconds": 0, "FunctionResponseTypes": ["ReportBatchItemFailures"]}}}}}
    resources["PublishWorker"] = {"Properties": {"Events": {"PublishWorkerSqsEventSource": {
        "Type": "SQS",
        "Properties": {"Queue": sub("${PublishQueue.Arn}"), "BatchSize": 1, "MaximumBatchingWindowInSeconds": 0}}}}}
    resources["APIHandler"] = {"Properties": {"Environment": {"Variables": {
        "KLIPSTAR_STATE_MACHINE_ARN": ref("PipelineStateMachine"),
        "KLIPSTAR_KEY_PEPPER_SECRET": ref("KeyPepperSecret"),
    }}}}

    # Media steps: one image (infra/Dockerfile), one function per step, its command picks the handler.
    for fn in FUNCTIONS:
        if fn.package != "image":
            continue
        resources[function_logical_id(fn)] = {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "PackageType": "Image",
                "ImageUri": ref("MediaImageUri"),
                "ImageConfig": {"Command": [fn.handler]},
                "MemorySize": fn.memory_mb,
                "Timeout": fn.timeout_s,
                "EphemeralStorage": {"Size": 10240},
                "Architectures": ["x86_64"],
                "Tracing": "Active",
                "Environment": {"Variables": {"POWERTOOLS_SERVICE_NAME": "klipstar-pipeline"}},
                "Policies": [{"Version": "2012-10-17", "Statement": [XRAY, *POLICIES[fn.name]]}],
            },
        }

    arns: dict[str, Any] = {fn.placeholder: getatt(function_logical_id(fn), "Arn") for fn in FUNCTIONS}
    arns["RenderMaxConcurrency"] = ref("RenderMaxConcurrency")
    arns["TranscribeMaxConcurrency"] = ref("TranscribeMaxConcurrency")
    resources["PipelineStateMachine"] = {
        "Type": "AWS::Serverless::StateMachine",
        "Properties": {
            "DefinitionUri": ASL_URI,
            "DefinitionSubstitutions": arns,
            "Tracing": {"Enabled": True},
            "Policies": [{"LambdaInvokePolicy": {"FunctionName": ref(function_logical_id(fn))}} for fn in FUNCTIONS],
        },
    }
    # API Gateway's own answers (unknown path, oversize body, throttling) in the API's error shape.
    resources.update(gateway_responses())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "Klipstar: API, pipeline state machine, media functions, tables, queues.",
        "Parameters": PARAMETERS,
        "Conditions": CONDITIONS,
        "Globals": {"Function": {"Environment": {"Variables": GLOBAL_ENV}}},
        "Resources": resources,
        "Outputs": {
            "StateMachineArn": {"Value": ref("PipelineStateMachine")},
            "WebhookQueueUrl": {"Value": ref("WebhookQueue")},
            "WebhookDeadLetterQueueUrl": {"Value": ref("WebhookDeadLetterQueue")},
            "PublishQueueUrl": {"Value": ref("PublishQueue")},
            # read by `klipstar keys --stage` (chalicelib/cli/stack.py) and printed by `klipstar deploy`
            "TablePrefix": {"Value": ref("TablePrefix")},
            "KeyPepperSecretArn": {"Value": ref("KeyPepperSecret")},
            "MediaBucketName": {"Value": ref("MediaBucketName")},
        },
    }


class _NoAliasDumper(yaml.SafeDumper):
    """CloudFormation does not accept YAML anchors/aliases: write shared dicts out in full."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render() -> str:
    header = "# GENERATED by infra/build_template.py from chalicelib/data/models.py and\n" \
             "# chalicelib/pipeline/functions.py -- edit those, then run `python infra/build_template.py`.\n"
    return header + yaml.dump(build(), Dumper=_NoAliasDumper, sort_keys=False, width=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if infra/template.yaml is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TEMPLATE.exists() or TEMPLATE.read_text() != text:
            print("infra/template.yaml is stale: run python infra/build_template.py", file=sys.stderr)
            return 1
        return 0
    TEMPLATE.write_text(text)
    print(f"wrote {TEMPLATE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
