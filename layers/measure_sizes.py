"""Measure every Lambda function's unzipped size against its budget.

Zip functions (Chalice: API, finalize, notify, mark_failed, prompt_finalize, sweeper, webhook and
publish workers) carry the app code plus the closure of infra/requirements-lambda.txt plus their
layers: Lambda caps that at 250 MB unzipped. The media steps run from the container image
(infra/Dockerfile: app code + requirements.txt + requirements-models.txt): 10 GB cap. Sizes come
from the installed distributions' RECORD files in this environment (the same wheels Lambda gets,
built for x86_64 Linux).

    python layers/measure_sizes.py            # table
    python layers/measure_sizes.py --json     # machine-readable (the deploy test uses it)
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import re
import sys
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers"))

MB = 1024 * 1024
ZIP_BUDGET = 250 * MB
IMAGE_BUDGET = 10 * 1024 * MB
# Chalice adds its own runtime; Lambda's Python runtime already has these and pip would not need them.
ALWAYS_EXCLUDED = {"pip", "setuptools", "wheel"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_requirements(path: Path) -> list[Requirement]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            out.append(Requirement(line))
    return out


def closure(requirements: list[Requirement]) -> set[str]:
    """Normalized names of the distributions `requirements` pull in (extras honoured)."""
    seen: set[str] = set()
    stack: list[tuple[Requirement, set[str]]] = [(r, set(r.extras)) for r in requirements]
    while stack:
        req, extras = stack.pop()
        name = _norm(req.name)
        if name in ALWAYS_EXCLUDED:
            continue
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue
        key = name + ("[" + ",".join(sorted(extras)) + "]" if extras else "")
        if key in seen:
            continue
        seen.add(key)
        seen.add(name)
        for raw in dist.requires or []:
            sub = Requirement(raw)
            env_ok = sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in (extras or {""}))
            if env_ok:
                stack.append((sub, set(sub.extras)))
    return {n for n in seen if "[" not in n}


def dist_bytes(name: str) -> int:
    dist = md.distribution(name)
    total = 0
    for f in dist.files or []:
        path = Path(str(dist.locate_file(f)))
        if path.is_file() and "__pycache__" not in path.parts:
            total += path.stat().st_size
    return total


def code_bytes() -> int:
    files = [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]
    return sum(p.stat().st_size for p in files if "__pycache__" not in p.parts)


def measure() -> dict[str, Any]:
    from build_ffmpeg_layer import unzipped_bytes as ffmpeg_layer_bytes

    from chalicelib.pipeline.functions import FUNCTIONS

    code = code_bytes()
    zip_deps = closure(read_requirements(ROOT / "infra" / "requirements-lambda.txt"))
    image_deps = closure(read_requirements(ROOT / "requirements.txt")) | closure(
        read_requirements(ROOT / "requirements-models.txt")
    )
    zip_total = code + sum(dist_bytes(n) for n in zip_deps)
    image_total = code + sum(dist_bytes(n) for n in image_deps)
    functions: dict[str, dict[str, Any]] = {}
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name in config.get("lambda_functions", {}):
        functions[name] = {"package": "zip", "bytes": zip_total, "layers": [], "budget": ZIP_BUDGET}
    for fn in FUNCTIONS:
        if fn.package == "image":
            functions[fn.name] = {"package": "image", "bytes": image_total, "layers": [], "budget": IMAGE_BUDGET}
        else:
            functions[fn.name] = {"package": "zip", "bytes": zip_total, "layers": [], "budget": ZIP_BUDGET}
    # What render would weigh as a zip function with the ffmpeg layer (why it ships in the image).
    render_zip_deps = zip_deps | closure([Requirement("opencv-python-headless"), Requirement("numpy"),
                                          Requirement("av"), Requirement("font-roboto"),
                                          Requirement("font-source-sans-pro"), Requirement("font-lato")])
    layer = ffmpeg_layer_bytes()
    hypothetical = code + sum(dist_bytes(n) for n in render_zip_deps) + layer
    return {
        "functions": functions,
        "ffmpeg_layer_bytes": layer,
        "render_as_zip_with_ffmpeg_layer_bytes": hypothetical,
        "zip_dependencies": sorted(zip_deps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Unzipped size of every Lambda function vs its budget.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = measure()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    over = False
    print(f"{'function':22} {'package':8} {'unzipped':>10} {'budget':>10}")
    for name, row in sorted(report["functions"].items()):
        flag = "" if row["bytes"] <= row["budget"] else "  OVER BUDGET"
        over |= bool(flag)
        print(f"{name:22} {row['package']:8} {row['bytes'] / MB:9.1f}M {row['budget'] / MB:9.0f}M{flag}")
    print(f"\nffmpeg layer (bin/ffmpeg + Roboto): {report['ffmpeg_layer_bytes'] / MB:.1f}M")
    print(f"render as a zip + ffmpeg layer would be {report['render_as_zip_with_ffmpeg_layer_bytes'] / MB:.1f}M "
          f"(budget {ZIP_BUDGET / MB:.0f}M): it ships in the image instead")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
