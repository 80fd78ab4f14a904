"""`klipstar keys create|list|revoke --stage prod` against a deployed stage (moto: CloudFormation
outputs + Secrets Manager + DynamoDB), and failing before any write when something is missing."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from chalicelib.cli.main import main
from chalicelib.local.service import reset_cached_clients

REGION = "eu-west-1"
STAGE_VARIABLES = ("KLIPSTAR_ENV", "KLIPSTAR_AWS_REGION", "KLIPSTAR_TABLE_PREFIX", "KLIPSTAR_KEY_PEPPER",
                   "KLIPSTAR_KEY_PEPPER_SECRET", "KLIPSTAR_DYNAMODB_ENDPOINT_URL")
PEPPER = "generated-pepper-0123456789abcdefghijklmnopqrstuv"


def _stack(name: str, outputs: dict[str, str]) -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    boto3.client("cloudformation", region_name=REGION).create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A deployed-looking stage: the pepper secret, the stack's outputs, the tables (prefix klipstar-prod-)."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    for name in STAGE_VARIABLES:  # every variable use_stage sets is restored afterwards
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("KLIPSTAR_ENV", "prod")
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name="pepper", SecretString=PEPPER)["ARN"]
        yield arn
    reset_cached_clients()


def _tables() -> None:
    """The tables `keys` writes (accounts, api-keys), under the current prefix."""
    from chalicelib.data.models import Account, ApiKey

    for model in (Account, ApiKey):
        model.create_table(wait=False)


def _items(table: str) -> list[dict]:
    return boto3.client("dynamodb", region_name=REGION).scan(TableName=table)["Items"]


def test_create_list_revoke_from_the_stage_name(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    _stack("klipstar-prod", {"TablePrefix": "klipstar-prod-", "KeyPepperSecretArn": aws})
    # a deployed stack has its tables: create them under the stack's prefix (use_stage points at it)
    from chalicelib.cli.stack import use_stage

    use_stage("prod", REGION)
    _tables()
    assert main(["keys", "create", "--stage", "prod", "--region", REGION, "--account", "acme", "--json"]) == 0
    minted = json.loads(capsys.readouterr().out)
    rows = _items("klipstar-prod-api-keys")
    assert len(rows) == 1
    # stored: HMAC-SHA256 with the pepper from Secrets Manager, computed here independently
    expected = hmac.new(PEPPER.encode(), minted["key"].encode(), hashlib.sha256).hexdigest()
    assert rows[0]["key_hash"]["S"] == expected
    assert main(["keys", "list", "--stage", "prod", "--region", REGION, "--account", "acme", "--json"]) == 0
    assert [k["key_id"] for k in json.loads(capsys.readouterr().out)] == [minted["key_id"]]
    assert main(["keys", "revoke", "--stage", "prod", "--region", REGION, "--account", "acme",
                 minted["key_id"]]) == 0
    assert "revoked" in capsys.readouterr().out


@pytest.mark.parametrize("outputs, message", [
    (None, "stack klipstar-prod not found"),
    ({"TablePrefix": "klipstar-prod-"}, "has no output KeyPepperSecretArn"),
    ({"TablePrefix": "klipstar-prod-", "KeyPepperSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:"
      "secret:gone-AbCdEf"}, "cannot read the key pepper secret"),
])
def test_missing_stack_output_or_secret_fails_before_writing(aws: str, capsys: pytest.CaptureFixture[str],
                                                             outputs: dict | None, message: str) -> None:
    if outputs is not None:
        _stack("klipstar-prod", outputs)
    reset_cached_clients()
    _tables()  # under the default prefix: nothing may land in them either
    code = main(["keys", "create", "--stage", "prod", "--region", REGION, "--account", "acme"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in dynamodb.list_tables()["TableNames"]:
        assert _items(table) == [], table


def test_prod_without_pepper_fails_before_the_account_row(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """main's bug: KLIPSTAR_KEY_PEPPER error after ensure_account had written the account."""
    reset_cached_clients()
    _tables()
    code = main(["keys", "create", "--account", "acme"])
    assert code == 2 and "KLIPSTAR_KEY_PEPPER must be set in prod" in capsys.readouterr().err
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in dynamodb.list_tables()["TableNames"]:
        assert _items(table) == [], table
