"""Build the deployable SAM template: `chalice package --merge-template infra/template.yaml`.

Chalice vendors requirements.txt into every zip function, and the repository's requirements.txt
holds the whole media/AI stack (for the container image and for local runs). So this script stages
the app in a temporary directory with infra/requirements-lambda.txt as its requirements.txt, runs
Chalice there and copies the result to --out. `--offline` stages an empty requirements file (no
download; used by the tests, which validate the template, not the vendored packages).

    python infra/package.py --stage prod --region eu-west-1 --out out/package   (`make package`)
    out/package/sam.yaml + deployment.zip + pipeline.asl.json are what `sam deploy` uploads;
    `klipstar deploy` runs this step itself (see infra/README.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib.pipeline.functions import asl_with_number_placeholders  # noqa: E402


def stage_app(dest: Path, offline: bool) -> None:
    """Copy what Chalice packages (app.py, chalicelib, .chalice config and policies) plus infra/."""
    shutil.copy2(ROOT / "app.py", dest / "app.py")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "deployments", "venv")
    shutil.copytree(ROOT / "chalicelib", dest / "chalicelib", ignore=ignore)
    shutil.copytree(ROOT / ".chalice", dest / ".chalice", ignore=ignore)
    shutil.copytree(ROOT / "infra", dest / "infra", ignore=ignore)
    requirements = "" if offline else (ROOT / "infra" / "requirements-lambda.txt").read_text()
    (dest / "requirements.txt").write_text(requirements)
    if not offline:
        # Chalice caches the vendored packages in .chalice/deployments (keyed by the requirements' hash):
        # keep that cache between runs so re-packaging unchanged requirements downloads nothing.
        cache = ROOT / "out" / ".chalice-deployments"
        cache.mkdir(parents=True, exist_ok=True)
        (dest / ".chalice" / "deployments").symlink_to(cache, target_is_directory=True)


def package(stage: str, out: Path, offline: bool = False, region: str | None = None) -> Path:
    """Run chalice package in a staging dir; returns the path of the SAM template in `out`.

    `region` is the deploy region (Chalice writes region-specific ARNs/endpoints into the template)."""
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="klipstar-package-") as tmp:
        work = Path(tmp)
        stage_app(work, offline)
        region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
        env = {**os.environ, "AWS_DEFAULT_REGION": region}
        chalice = shutil.which("chalice", path=str(Path(sys.executable).parent)) or shutil.which("chalice")
        if not chalice:
            raise SystemExit("chalice is not installed: pip install -r requirements.txt")
        cmd = [chalice, "package", "--stage", stage,
               "--merge-template", "infra/template.yaml", "out"]
        subprocess.run(cmd, cwd=work, env=env, check=True)
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(work / "out", out)
    # DefinitionUri (pipeline.asl.json) is relative to sam.yaml: the deployed copy sits next to it, with the
    # numeric placeholders unquoted so DefinitionSubstitutions turn them into JSON numbers.
    asl = asl_with_number_placeholders((ROOT / "infra" / "pipeline.asl.json").read_text())
    (out / "pipeline.asl.json").write_text(asl)
    return out / "sam.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package Klipstar for deployment (SAM template).")
    parser.add_argument("--stage", default="dev", choices=["dev", "prod"])
    parser.add_argument("--out", type=Path, default=ROOT / "out")
    parser.add_argument("--region", default=None, help="deploy region (default: $AWS_DEFAULT_REGION or us-east-1)")
    parser.add_argument("--offline", action="store_true", help="vendor no packages (template checks only)")
    args = parser.parse_args(argv)
    print(package(args.stage, args.out, args.offline, args.region))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
