"""Caption fonts: the Roboto TTFs from the font-roboto package, in a folder libass can be pointed at."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

FONT_FAMILY = "Roboto"


def _package_fonts() -> list[Path]:
    import font_roboto

    files = Path(font_roboto.__file__).parent / "files"
    return sorted(p for p in files.glob("*.ttf") if p.is_file())


@functools.lru_cache(maxsize=1)
def fonts_dir() -> Path:
    """A folder holding only Roboto TTFs (no LICENSE or other files), made once under the temp dir."""
    fonts = _package_fonts()
    if not fonts:
        raise RuntimeError("font-roboto package ships no TTF files")
    digest = hashlib.sha256()
    for f in fonts:
        digest.update(f"{f.name}:{f.stat().st_size}\n".encode())
    target = Path(tempfile.gettempdir()) / f"klipstar-fonts-{digest.hexdigest()[:12]}"
    wanted = {f.name for f in fonts}
    if target.is_dir() and {p.name for p in target.iterdir()} == wanted:
        return target
    staging = Path(tempfile.mkdtemp(prefix="klipstar-fonts-", dir=target.parent))
    for f in fonts:
        shutil.copyfile(f, staging / f.name)
    try:
        os.rename(staging, target)
    except OSError:  # another process won the race (or a stale dir exists): keep a valid one
        shutil.rmtree(staging, ignore_errors=True)
        if not (target.is_dir() and {p.name for p in target.iterdir()} == wanted):
            shutil.rmtree(target, ignore_errors=True)
            return _rebuild(fonts, target)
    return target


def _rebuild(fonts: list[Path], target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for f in fonts:
        shutil.copyfile(f, target / f.name)
    return target
