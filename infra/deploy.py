"""One deploy command: `make deploy CONFIG=deploy.toml` (add `DRY_RUN=1` to run only the offline steps).

Steps, in order (infra/README.md explains each):
  offline  1. the merge template is current            python infra/build_template.py --check
           2. the media image installs from wheels      python infra/check_wheels.py
           3. package: chalice package --merge-template python infra/package.py --stage --region --out
           4. validate: the state machine (asl-validator) and the packaged template (cfn-lint)
  AWS      5. image repository + docker login           aws ecr ...
           6. build the media image (Docker, linux/amd64, --provenance=false) and push it
           7. deploy the packaged template               sam deploy ... (uploads deployment.zip + the ASL)
           8. print the API URL (stack output EndpointURL) and how to mint the first key

With --dry-run, steps 1-4 run and steps 5-7 are printed, not run (they need AWS credentials, and the
image build a Docker engine).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ASL_VALIDATOR = ROOT / "tools" / "asl" / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"
_ECR = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+$")


class DeployError(Exception):
    """A configuration or step failure; main() prints it on one line and exits non-zero."""


@dataclass(frozen=True)
class DeployConfig:
    """The deploy configuration file (infra/deploy.example.toml documents every field)."""

    stage: str
    region: str
    stack_name: str
    table_prefix: str
    image_repository: str
    bucket: str
    s3_endpoint_url: str = ""
    s3_credentials_secret_arn: str = ""
    scorer: str = "local"
    llm_api_key_secret_arn: str = ""
    scheduler_group: str = "default"
    render_max_concurrency: int = 10
    transcribe_max_concurrency: int = 8

    @classmethod
    def load(cls, path: Path) -> DeployConfig:
        try:
            raw = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DeployError(f"{path}: {exc}") from None
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            raise DeployError(f"{path}: unknown field(s) {', '.join(unknown)}")
        missing = sorted(n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in raw)
        if missing:
            raise DeployError(f"{path}: missing field(s) {', '.join(missing)}")
        config = cls(**raw)
        config.validate(path)
        return config

    def validate(self, path: Path) -> None:
        checks = [
            (self.stage in {"dev", "prod"}, "stage must be dev or prod"),
            (bool(_ECR.match(self.image_repository)), "image_repository must be <account>.dkr.ecr.<region>."
                                                      "amazonaws.com/<name>"),
            (self.scorer in {"local", "openai", "bedrock"}, "scorer must be local, openai or bedrock"),
            (not self.s3_endpoint_url or bool(self.s3_credentials_secret_arn),
             "s3_credentials_secret_arn is required with s3_endpoint_url (R2)"),
            (1 <= self.render_max_concurrency <= 100 and 1 <= self.transcribe_max_concurrency <= 100,
             "concurrency limits must be 1..100"),
            (bool(self.bucket and self.stack_name and self.table_prefix), "bucket, stack_name, table_prefix are "
                                                                          "required"),
        ]
        for ok, message in checks:
            if not ok:
                raise DeployError(f"{path}: {message}")

    @property
    def registry(self) -> str:
        return self.image_repository.split("/", 1)[0]

    def parameter_overrides(self, image_uri: str) -> dict[str, str]:
        """The template's parameters (infra/build_template.py PARAMETERS)."""
        params = {
            "KlipstarEnv": self.stage,
            "TablePrefix": self.table_prefix,
            "MediaBucketName": self.bucket,
            "MediaImageUri": image_uri,
            "S3EndpointUrl": self.s3_endpoint_url,
            "S3CredentialsSecretArn": self.s3_credentials_secret_arn,
            "Scorer": self.scorer,
            "LlmApiKeySecretArn": self.llm_api_key_secret_arn,
            "SchedulerGroup": self.scheduler_group,
            "RenderMaxConcurrency": str(self.render_max_concurrency),
            "TranscribeMaxConcurrency": str(self.transcribe_max_concurrency),
        }
        return {k: v for k, v in params.items() if v != ""}


def image_tag() -> str:
    """The git commit (plus -dirty for uncommitted changes): every deploy of new code is a new image."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short=12", "HEAD") or "latest"
    return commit + ("-dirty" if git("status", "--porcelain") else "")


def aws_commands(config: DeployConfig, template: Path, image_uri: str) -> list[str]:
    """Steps 5-7: the shell commands that need AWS (and Docker)."""
    repo_name = config.image_repository.split("/", 1)[1]
    q = shlex.quote
    overrides = " ".join(q(f"{k}={v}") for k, v in config.parameter_overrides(image_uri).items())
    return [
        f"aws ecr describe-repositories --region {q(config.region)} --repository-names {q(repo_name)} >/dev/null "
        f"|| aws ecr create-repository --region {q(config.region)} --repository-name {q(repo_name)}",
        f"aws ecr get-login-password --region {q(config.region)} "
        f"| docker login --username AWS --password-stdin {q(config.registry)}",
        f"docker build --platform linux/amd64 --provenance=false -f infra/Dockerfile -t {q(image_uri)} .",
        f"docker push {q(image_uri)}",
        f"sam deploy --template-file {q(str(template))} --stack-name {q(config.stack_name)} "
        f"--region {q(config.region)} --resolve-s3 --image-repository {q(config.image_repository)} "
        "--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset "
        f"--parameter-overrides {overrides}",
    ]


def run(cmd: list[str], what: str) -> None:
    print(f"klipstar deploy: {what}: {shlex.join(cmd)}", flush=True)
    result = subprocess.run(cmd, cwd=ROOT)
    if result.returncode != 0:
        raise DeployError(f"{what} failed (exit {result.returncode})")


def validate_state_machine(config: DeployConfig) -> None:
    """Step 4a: the definition as the stack substitutes it passes asl-validator (`make tools` installs it)."""
    from chalicelib.local.aws import load_definition
    from chalicelib.pipeline.functions import ASL_NUMBERS, ASL_PLACEHOLDERS

    node = shutil.which("node")
    if not node or not ASL_VALIDATOR.exists():
        raise DeployError("asl-validator is not installed: run `make tools`")
    account = config.registry.split(".", 1)[0]
    subs: dict[str, Any] = {p: f"arn:aws:lambda:{config.region}:{account}:function:{config.stack_name}-{p}"
                            for p in ASL_PLACEHOLDERS}
    subs.update({"RenderMaxConcurrency": config.render_max_concurrency,
                 "TranscribeMaxConcurrency": config.transcribe_max_concurrency})
    assert set(ASL_NUMBERS) <= set(subs)
    with tempfile.TemporaryDirectory(prefix="klipstar-asl-") as tmp:
        path = Path(tmp) / "definition.json"
        path.write_text(load_definition(subs))
        run([node, str(ASL_VALIDATOR), "--json-path", str(path)], "validate the state machine (asl-validator)")


def deploy(config: DeployConfig, out: Path, dry_run: bool) -> int:
    from package import package  # infra/package.py

    py = sys.executable
    run([py, "infra/build_template.py", "--check"], "1. merge template is current")
    run([py, "infra/check_wheels.py"], "2. media image installs from wheels")
    print(f"klipstar deploy: 3. package (chalice package --merge-template infra/template.yaml) -> {out}", flush=True)
    try:
        template = package(config.stage, out, region=config.region)
    except subprocess.CalledProcessError as exc:
        raise DeployError(f"chalice package failed (exit {exc.returncode})") from None
    validate_state_machine(config)
    cfn_lint = str(Path(py).parent / "cfn-lint")
    run([cfn_lint, "--regions", config.region, "--", str(template)], "4. validate the packaged template (cfn-lint)")

    image_uri = f"{config.image_repository}:{image_tag()}"
    commands = aws_commands(config, template.relative_to(ROOT) if template.is_relative_to(ROOT) else template,
                            image_uri)
    if dry_run:
        print("klipstar deploy: dry run: offline steps passed; the AWS steps would run:")
        for cmd in commands:
            print(f"  {cmd}")
        print(f"  then: API URL = output EndpointURL of stack {config.stack_name}; "
              f"mint the first key: {first_key_command(config)}")
        return 0
    missing = [tool for tool in ("aws", "docker", "sam") if not shutil.which(tool)]
    if missing:
        raise DeployError(f"{', '.join(missing)} not found on PATH (needed for the AWS steps)")
    for step, cmd in zip(("5. image repository", "5. docker login", "6. build the media image",
                          "6. push the media image", "7. sam deploy"), commands, strict=True):
        print(f"klipstar deploy: {step}: {cmd}", flush=True)
        if subprocess.run(cmd, shell=True, cwd=ROOT).returncode != 0:  # noqa: S602 (our own quoted commands)
            raise DeployError(f"{step} failed")
    print_outputs(config)
    return 0


def print_outputs(config: DeployConfig) -> None:
    """Step 8: the API URL and how to mint the first key."""
    import boto3

    stack = boto3.client("cloudformation", region_name=config.region).describe_stacks(
        StackName=config.stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    print(f"klipstar deploy: done. API URL: {outputs.get('EndpointURL')}")
    print(f"Mint the first key: {first_key_command(config)}")


def first_key_command(config: DeployConfig) -> str:
    return f"klipstar keys create --stage {config.stage} --region {config.region} --account <account-id>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Deploy Klipstar to AWS (see infra/README.md).")
    parser.add_argument("--config", type=Path, required=True, help="deploy configuration (TOML)")
    parser.add_argument("--dry-run", action="store_true", help="run the offline steps, print the AWS ones")
    parser.add_argument("--out", type=Path, default=None, help="package output (default out/deploy/<stage>)")
    args = parser.parse_args(argv)
    try:
        config = DeployConfig.load(args.config)
        return deploy(config, args.out or ROOT / "out" / "deploy" / config.stage, args.dry_run)
    except DeployError as exc:
        print(f"klipstar deploy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
