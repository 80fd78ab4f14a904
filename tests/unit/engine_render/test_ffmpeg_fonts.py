"""The ffmpeg binary, its error reporting, and the packaged fonts handed to libass."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.errors import RenderFailed
from chalicelib.engine.ffmpeg import ffmpeg_exe, run_ffmpeg, run_ffmpeg_capture
from chalicelib.engine.fonts import fonts_dir
from chalicelib.engine.render import escape_filter_value


def test_ffmpeg_has_what_we_use() -> None:
    exe = ffmpeg_exe()
    assert os.access(exe, os.X_OK)
    filters = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    for name in ("subtitles", "crop", "boxblur", "overlay"):
        assert f" {name} " in filters
    assert "libx264" in encoders and " aac " in encoders


def test_run_ffmpeg_reports_stderr_tail(tmp_path: Path) -> None:
    with pytest.raises(RenderFailed) as info:
        run_ffmpeg(["-i", str(tmp_path / "nope.mp4"), "-f", "null", "-"])
    assert info.value.code == "render_failed"
    assert "nope.mp4" in info.value.message and "\n" not in info.value.message
    with pytest.raises(RenderFailed, match="timed out"):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "color=d=30", "-f", "null", "-"], timeout=0.5)


def test_fonts_dir_only_packaged_ttfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # a private temp dir: others' renders use the real one
    d = fonts_dir()
    assert d.parent == tmp_path
    names = sorted(p.name for p in d.iterdir())
    assert names and all(n.startswith(("Roboto-", "SourceSansPro-", "Lato-")) and n.endswith(".ttf") for n in names)
    for family in ("Roboto", "SourceSansPro", "Lato"):
        assert {f"{family}-Regular.ttf", f"{family}-Bold.ttf", f"{family}-Black.ttf"} <= set(names)
    assert fonts_dir() == d
    shutil.rmtree(d)  # a temp-dir cleaner ran: the folder is made again
    assert fonts_dir() == d and sorted(p.name for p in d.iterdir()) == names


def _render_text(ass: Path, font: str, tmp: Path) -> np.ndarray:
    ass.write_text(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 640\nPlayResY: 200\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Alignment, MarginV\n"
        f"Style: Default,{font},60,&H00FFFFFF,0,5,0\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Text\nDialogue: 0,0:00:00.00,0:00:01.00,Default,KLIPSTAR rocks\n"
    )
    raw = tmp / f"{ass.stem}.gray"
    run_ffmpeg(
        ["-y", "-f", "lavfi", "-i", "color=c=black:s=640x200:d=0.5:r=10",
         "-vf", f"subtitles=filename={escape_filter_value(str(ass))}:fontsdir={escape_filter_value(str(fonts_dir()))}",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "gray", str(raw)]
    )  # fmt: skip
    return np.frombuffer(raw.read_bytes(), np.uint8).reshape(200, 640) > 128


def test_libass_uses_packaged_roboto(tmp_path: Path) -> None:
    regular = _render_text(tmp_path / "r.ass", "Roboto", tmp_path)
    black = _render_text(tmp_path / "b.ass", "Roboto Black", tmp_path)
    fallback = _render_text(tmp_path / "f.ass", "No Such Font Family", tmp_path)
    assert regular.sum() > 500
    assert black.sum() > 1.3 * regular.sum()  # the Black weight resolved from the fonts dir
    assert not np.array_equal(regular, fallback)  # Roboto, not whatever the OS falls back to


def test_capture_returns_log() -> None:
    log = run_ffmpeg_capture(["-f", "lavfi", "-i", "color=d=0.2", "-f", "null", "-"], loglevel="info")
    assert "color" in log


ACCENTED = "àáâäãåæçèéêëìíîïñòóôöõøœùúûüýÿßÀÉÈÊÇÑÖÜ"


@pytest.mark.parametrize("family", ["Roboto", "Source Sans Pro", "Lato"])
def test_every_family_covers_accented_latin_and_resolves_in_libass(family: str, tmp_path: Path) -> None:
    """fontTools reads each shipped face's character map; libass finds the family in the fonts dir."""
    from fontTools.ttLib import TTFont

    from chalicelib.engine.fonts import FONT_PACKAGES, font_files

    prefix = FONT_PACKAGES[family][1]
    for weight in ("Regular", "Bold", "Black"):
        face = next(f for f in font_files() if f.name == f"{prefix}{weight}.ttf")
        cmap = TTFont(face).getBestCmap()
        assert not [c for c in ACCENTED if ord(c) not in cmap], (face.name, family)
    regular = _render_text(tmp_path / "r.ass", family, tmp_path)
    black = _render_text(tmp_path / "b.ass", f"{family} Black", tmp_path)
    fallback = _render_text(tmp_path / "f.ass", "No Such Font Family", tmp_path)
    assert black.sum() > 1.2 * regular.sum()  # the Black face resolved by its family name
    if family != "Roboto":  # libass's fallback for an unknown family may well be Roboto itself
        assert not np.array_equal(regular, fallback)


def test_font_choice_checks_each_shipped_family_on_its_own_files() -> None:
    """language_unsupported looks at every shipped family (each by its own TTFs), the style's font first."""
    from chalicelib.engine import font_choice
    from chalicelib.engine.errors import LanguageUnsupported
    from chalicelib.engine.fonts import FONT_FAMILIES, family_files

    listed = font_choice.families()
    assert [f for f, _ in listed] == ["Roboto", "Source Sans Pro", "Lato"]
    assert set(FONT_FAMILIES) == {"Roboto", "Source Sans Pro", "Lato"}
    for family, paths in listed:
        assert paths == family_files(family) and all(p.name.startswith(family.replace(" ", "")) for p in paths)
    assert font_choice.families("Lato")[0][0] == "Lato"
    greek = "Καλημέρα κόσμε"
    assert font_choice.caption_font("Straße, señal", "Lato") == "Lato"  # Lato draws Western European Latin
    assert font_choice.caption_font(greek, "Lato") == "Roboto"  # Lato has no Greek: the next family that does
    with pytest.raises(LanguageUnsupported):
        font_choice.caption_font("مرحبا بالعالم", "Source Sans Pro")
