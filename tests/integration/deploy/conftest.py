"""Package the app once (offline: no vendored packages) for both stages; the tests read the output."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "infra"))


def load_cfn(path: Path) -> dict[str, Any]:
    from chalicelib.local.aws import _CfnLoader

    return yaml.load(path.read_text(), Loader=_CfnLoader)


@pytest.fixture(scope="package")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from package import package

    out: dict[str, Path] = {}
    for stage in ("dev", "prod"):
        base = tmp_path_factory.mktemp(f"pkg-{stage}")
        out[stage] = package(stage, base / "out", offline=True)
    return out
