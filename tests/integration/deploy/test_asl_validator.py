"""The state machine as CloudFormation receives it passes a real ASL validator (the npm package
asl-validator, installed by `make tools` into tools/asl/node_modules), and the committed file is JSON.

moto runs the definition without checking it; CloudFormation rejects e.g. a state name used twice
across Maps (DUPLICATE_STATE_NAMES), which only a validator catches before deploying."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from chalicelib.local.aws import ASL_PATH, load_definition
from chalicelib.pipeline.functions import ASL_NUMBERS, ASL_PLACEHOLDERS

from .conftest import ROOT

VALIDATOR = ROOT / "tools" / "asl" / "node_modules" / "asl-validator" / "dist" / "bin" / "asl-validator.js"


def substituted() -> dict:
    subs: dict[str, object] = {p: f"arn:aws:lambda:us-east-1:123456789012:function:klipstar-{p}" for p in
                               ASL_PLACEHOLDERS}
    subs.update({n: 10 for n in ASL_NUMBERS})
    return json.loads(load_definition(subs))


def validate(definition: dict, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node and VALIDATOR.exists(), "asl-validator is missing: run `make tools` (npm ci in tools/asl)"
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    return subprocess.run([node, str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True,
                          timeout=60)


def test_committed_definition_is_valid_json_with_quoted_numbers() -> None:
    raw = json.loads(ASL_PATH.read_text())
    assert raw["States"]["Render"]["MaxConcurrency"] == "${RenderMaxConcurrency}"
    definition = substituted()
    assert definition["States"]["Render"]["MaxConcurrency"] == 10  # a number once substituted
    assert definition["States"]["TranscribeChunks"]["MaxConcurrency"] == 10


def test_substituted_definition_passes_asl_validator(tmp_path: Path) -> None:
    result = validate(substituted(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_a_state_name_used_in_two_maps(tmp_path: Path) -> None:
    """The check can fail: the duplicate main had (RenderClip in both Render and PromptRender)."""
    definition = substituted()
    inner = definition["States"]["PromptRender"]["ItemProcessor"]
    inner["States"] = {"RenderClip": inner["States"].pop(inner["StartAt"])}
    inner["StartAt"] = "RenderClip"
    result = validate(definition, tmp_path)
    assert result.returncode != 0 and "DUPLICATE_STATE_NAMES" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ASL_NUMBERS)
def test_number_placeholders_are_quoted_in_the_committed_file(name: str) -> None:
    text = ASL_PATH.read_text()
    assert f'"${{{name}}}"' in text and f": ${{{name}}}" not in text
