"""Point the CLI at a deployed stage: table prefix and key pepper from the CloudFormation stack.

`klipstar keys ... --stage prod` reads the stack's outputs (TablePrefix, KeyPepperSecretArn; see
infra/build_template.py) and the pepper from Secrets Manager, and fails before anything is written
when the stack, an output or the secret is missing.
"""

from __future__ import annotations

import os

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .errors import CliError

REQUIRED_OUTPUTS = ("TablePrefix", "KeyPepperSecretArn")


def stack_name(stage: str) -> str:
    return f"klipstar-{stage}"


def stage_settings(stage: str, region: str, stack: str | None = None) -> dict[str, str]:
    """The KLIPSTAR_* variables that point the data layer at the deployed stage `stage`."""
    name = stack or stack_name(stage)
    try:
        stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        raise CliError(f"stack {name} not found in {region}: {exc.response['Error'].get('Message', '')}") from None
    except BotoCoreError as exc:
        raise CliError(f"cannot read stack {name} in {region}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise CliError(f"stack {name} has no output {', '.join(missing)} (deployed from an older template?)")
    try:
        pepper = boto3.client("secretsmanager", region_name=region).get_secret_value(
            SecretId=outputs["KeyPepperSecretArn"])["SecretString"]
    except (ClientError, KeyError) as exc:
        raise CliError(f"cannot read the key pepper secret of stack {name}: {exc}") from None
    if not pepper:
        raise CliError(f"the key pepper secret of stack {name} is empty")
    return {
        "KLIPSTAR_ENV": stage,
        "KLIPSTAR_AWS_REGION": region,
        "KLIPSTAR_TABLE_PREFIX": outputs["TablePrefix"],
        "KLIPSTAR_KEY_PEPPER": pepper,
        "KLIPSTAR_KEY_PEPPER_SECRET": "",
        "KLIPSTAR_DYNAMODB_ENDPOINT_URL": "",
    }


def use_stage(stage: str, region: str, stack: str | None = None) -> None:
    """Configure this process for the deployed stage (settings, tables, clients)."""
    os.environ.update(stage_settings(stage, region, stack))
    from ..local.service import reset_cached_clients

    reset_cached_clients()
