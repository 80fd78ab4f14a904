"""Size budgets: every zip function (code + vendored packages + layers) stays under Lambda's 250 MB
unzipped; the media image's content is measured too; the zip functions really run without the media stack."""

from __future__ import annotations

import json
import subprocess
import sys

from packaging.requirements import Requirement

from .conftest import ROOT

MB = 1024 * 1024
MEDIA_STACK = ["numpy", "cv2", "av", "faster_whisper", "ctranslate2", "imageio_ffmpeg", "yt_dlp", "onnxruntime",
               "tokenizers"]


def _report() -> dict:
    out = subprocess.run([sys.executable, "layers/measure_sizes.py", "--json"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out)


def test_every_function_is_under_its_budget() -> None:
    report = _report()
    functions = report["functions"]
    assert {"api_handler", "finalize", "notify", "webhook_dispatcher", "render", "transcribe_chunk"} <= set(functions)
    for name, row in functions.items():
        assert row["bytes"] <= row["budget"], f"{name}: {row['bytes'] / MB:.1f} MB > {row['budget'] / MB:.0f} MB"
        if row["package"] == "zip":
            assert row["budget"] == 250 * MB
    # the numbers are real: the zip side is tens of MB, the media image hundreds
    assert 20 * MB < functions["finalize"]["bytes"] < 150 * MB
    assert functions["render"]["bytes"] > 400 * MB
    # and they explain the packaging: render + the ffmpeg layer would not fit a zip function
    assert report["ffmpeg_layer_bytes"] > 100 * MB
    assert report["render_as_zip_with_ffmpeg_layer_bytes"] > 250 * MB
    assert not set(report["zip_dependencies"]) & {"numpy", "opencv-python-headless", "av", "faster-whisper"}


def test_lambda_requirements_pin_the_same_versions() -> None:
    def pins(path: str) -> dict[str, str]:
        out = {}
        for line in (ROOT / path).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                req = Requirement(line)
                out[req.name.lower()] = str(req.specifier)
        return out

    lean, full = pins("infra/requirements-lambda.txt"), pins("requirements.txt")
    assert lean and all(full.get(name) == spec for name, spec in lean.items()), (lean, full)


def test_zip_functions_import_without_the_media_stack() -> None:
    blocker = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in MEDIA_STACK)
    code = blocker + (
        "import app\n"
        "names = sorted(f.name for f in app.app.pure_lambda_functions)\n"
        "names += sorted(e.name for e in app.app.event_sources)\n"
        "print(','.join(names))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    registered = set(result.stdout.strip().split(","))
    assert {"finalize", "notify", "mark_failed", "sweeper", "webhook_dispatcher"} <= registered
