"""The ffmpeg layer's layout: bin/ffmpeg (executable, lands on /opt/bin/ffmpeg) and the Roboto fonts."""

from __future__ import annotations

import stat
import subprocess
import zipfile
from pathlib import Path

import imageio_ffmpeg
import pytest

from .conftest import ROOT


def test_layer_maps_the_static_ffmpeg_and_the_fonts() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "layers"))
    from build_ffmpeg_layer import layer_files, unzipped_bytes

    files = layer_files()
    assert files["bin/ffmpeg"] == Path(imageio_ffmpeg.get_ffmpeg_exe())
    fonts = [name for name in files if name.startswith("fonts/")]
    assert fonts and all(name.endswith(".ttf") for name in fonts)
    assert {"Roboto", "SourceSansPro", "Lato"} == {name[6:].split("-")[0] for name in fonts}
    assert unzipped_bytes() == sum(p.stat().st_size for p in files.values())


def test_built_zip_is_unpackable_with_an_executable_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "layers"))
    import build_ffmpeg_layer

    fake = tmp_path / "ffmpeg-fake"  # a stand-in binary keeps the test from compressing 170 MB
    fake.write_text("#!/bin/sh\necho ffmpeg version fake\n")
    fake.chmod(0o755)
    monkeypatch.setattr(imageio_ffmpeg, "get_ffmpeg_exe", lambda: str(fake))
    archive = build_ffmpeg_layer.build(tmp_path / "out")
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        assert "bin/ffmpeg" in names and any(n.startswith("fonts/Roboto") for n in names)
        mode = zf.getinfo("bin/ffmpeg").external_attr >> 16
        assert mode & stat.S_IXUSR and stat.S_ISREG(mode)
        opt = tmp_path / "opt"
        zf.extractall(opt)
    (opt / "bin" / "ffmpeg").chmod(mode & 0o777)  # as Lambda unpacks it under /opt
    out = subprocess.run([str(opt / "bin" / "ffmpeg")], capture_output=True, text=True, check=True).stdout
    assert "ffmpeg version" in out
