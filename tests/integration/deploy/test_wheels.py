"""The media image installs from wheels (`make check-wheels` runs the whole check, infra/check_wheels.py;
`make test` depends on it). Here: the platform comes from the Dockerfile, every manylinux tag its glibc
runs is asked for, and the packages that sank the Python 3.11 (Amazon Linux 2) image are checked against
the registry for both platforms (--no-deps: a few seconds)."""

from __future__ import annotations

from pathlib import Path

from check_wheels import DOCKERFILE, REQUIREMENTS, Platform, check_wheels, image_platform, requirement_lines

from .conftest import ROOT

NATIVE = {"ctranslate2", "numpy", "av", "cryptography", "opencv-python-headless"}  # onnxruntime: via faster-whisper


def _pins() -> list[str]:
    lines = [line for name in REQUIREMENTS for line in requirement_lines(ROOT / name)]
    pins = [line for line in lines if line.split("==")[0].lower() in NATIVE]
    return pins


def test_image_is_python_312_on_glibc_234() -> None:
    platform = image_platform(DOCKERFILE)
    assert (platform.python, platform.glibc) == ("3.12", (2, 34))
    tags = platform.tags()
    assert tags[0] == "manylinux_2_34_x86_64" and "manylinux_2_28_x86_64" in tags and "manylinux_2_17_x86_64" in tags
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_35_x86_64" not in tags


def test_native_pins_have_wheels_for_the_image(tmp_path: Path) -> None:
    pins = _pins()
    assert len(pins) == len(NATIVE)
    assert check_wheels(pins, image_platform(DOCKERFILE), deps=False) == ""


def test_python_311_base_image_would_need_source_builds() -> None:
    """The check can fail: on main's base image (python:3.11, Amazon Linux 2, glibc 2.26) it does."""
    ctranslate2 = [p for p in _pins() if p.startswith("ctranslate2")]
    error = check_wheels(ctranslate2, Platform("3.11", (2, 26)), deps=False)
    assert "ctranslate2" in error
