"""The documented deploy command, in dry-run mode, runs end to end: the README's exact command text
(between the DEPLOY-COMMANDS markers) through make and bash. It runs every offline step (template check,
wheel check, chalice package, asl-validator, cfn-lint) and prints the AWS commands with every option
`sam deploy` needs for image functions and a fresh account."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from deploy import DeployConfig, DeployError  # infra/ (on the path from conftest)

from .conftest import ROOT


def readme_commands() -> list[str]:
    block = re.search(r"<!-- DEPLOY-COMMANDS -->\n```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no DEPLOY-COMMANDS block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def dry_run() -> subprocess.CompletedProcess[str]:
    command = next(c for c in readme_commands() if "DRY_RUN=1" in c)
    env = {**os.environ, "PY": sys.executable, "PYTHONPATH": str(ROOT)}
    return subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)


def test_readme_dry_run_succeeds_end_to_end(dry_run: subprocess.CompletedProcess[str]) -> None:
    assert dry_run.returncode == 0, dry_run.stdout[-3000:] + dry_run.stderr[-3000:]
    out = dry_run.stdout
    for step in ("1. merge template is current", "2. media image installs from wheels", "3. package",
                 "validate the state machine (asl-validator)", "4. validate the packaged template (cfn-lint)"):
        assert f"klipstar deploy: {step}" in out
    assert "is valid" in out  # asl-validator's verdict
    packaged = ROOT / "out" / "deploy" / "prod"
    assert {"sam.yaml", "deployment.zip", "pipeline.asl.json"} <= {p.name for p in packaged.iterdir()}


def test_dry_run_prints_the_aws_commands_with_every_needed_option(dry_run: subprocess.CompletedProcess[str]) -> None:
    lines = [line.strip() for line in dry_run.stdout.splitlines()]
    build = next(line for line in lines if line.startswith("docker build"))
    assert "--platform linux/amd64" in build and "--provenance=false" in build and "-f infra/Dockerfile" in build
    assert any(line.startswith("docker push ") for line in lines)
    sam = shlex.split(next(line for line in lines if line.startswith("sam deploy")))
    for option in ("--resolve-s3", "--image-repository", "--capabilities", "--stack-name", "--region",
                   "--parameter-overrides"):
        assert option in sam, option
    assert "CAPABILITY_IAM" in sam and "CAPABILITY_AUTO_EXPAND" in sam
    params = dict(a.split("=", 1) for a in sam[sam.index("--parameter-overrides") + 1:])
    config = DeployConfig.load(ROOT / "infra" / "deploy.example.toml")
    assert params["TablePrefix"] == config.table_prefix == "klipstar-prod-"
    assert params["MediaBucketName"] == config.bucket
    assert params["MediaImageUri"].startswith(config.image_repository + ":")
    template = (ROOT / "out" / "deploy" / "prod" / "sam.yaml").read_text()
    for name in params:  # every override is a parameter of the packaged template
        assert re.search(rf"^  {name}:$", template, re.M), name
    assert any("klipstar keys create --stage prod" in line for line in lines)


@pytest.mark.parametrize("change, message", [
    ({"stage": "staging"}, "stage must be dev or prod"),
    ({"image_repository": "klipstar-media"}, "image_repository must be"),
    ({"s3_endpoint_url": "https://acct.r2.cloudflarestorage.com"}, "s3_credentials_secret_arn is required"),
    ({"surprise": 1}, "unknown field(s) surprise"),
])
def test_bad_config_fails_with_one_clear_message(tmp_path: Path, change: dict, message: str) -> None:
    text = (ROOT / "infra" / "deploy.example.toml").read_text()
    for key, value in change.items():
        line = f"{key} = {value!r}".replace("'", '"')
        text = re.sub(rf"^{key} = .*$", line, text, flags=re.M) if re.search(rf"^{key} =", text, re.M) \
            else text + line + "\n"
    path = tmp_path / "deploy.toml"
    path.write_text(text)
    with pytest.raises(DeployError, match=re.escape(message)):
        DeployConfig.load(path)
