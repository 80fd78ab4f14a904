"""Caption fonts: the Roboto TTFs from the font-roboto package, in a folder libass can be pointed at."""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

FONT_FAMILY = "Roboto"


@functools.lru_cache(maxsize=1)
def _package_fonts() -> tuple[Path, ...]:
    import font_roboto

    files = Path(font_roboto.__file__).parent / "files"
    fonts = tuple(sorted(p for p in files.glob("*.ttf") if p.is_file()))
    if not fonts:
        raise RuntimeError("the font-roboto package ships no TTF files")
    return fonts


def _is_complete(target: Path, fonts: tuple[Path, ...]) -> bool:
    try:
        return {p.name: p.stat().st_size for p in target.iterdir()} == {f.name: f.stat().st_size for f in fonts}
    except OSError:
        return False


def fonts_dir() -> Path:
    """A folder holding only the Roboto TTFs (no LICENSE or other files), made once under the temp dir.

    libass scans every file of `fontsdir`, so the package's folder (which also holds a LICENSE) is not
    used directly. The folder is re-made if a temp-dir cleaner removed it.
    """
    fonts = _package_fonts()
    digest = hashlib.sha256("".join(f"{f.name}:{f.stat().st_size}\n" for f in fonts).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"klipstar-fonts-{digest}"
    if _is_complete(target, fonts):
        return target
    staging = Path(tempfile.mkdtemp(prefix=".klipstar-fonts-", dir=target.parent))
    try:
        for f in fonts:
            shutil.copyfile(f, staging / f.name)
        if target.exists() and not _is_complete(target, fonts):
            shutil.rmtree(target, ignore_errors=True)  # stale or half-made
        try:
            os.rename(staging, target)
        except OSError:
            if not _is_complete(target, fonts):  # not another process winning the race: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
