"""Caption fonts: TTFs from PyPI font packages, in one folder libass can be pointed at.

Families (the `font` names a style may use), each with a Regular, Bold and Black face:
- Roboto (font-roboto): Latin, Latin Extended, Greek, Cyrillic;
- Source Sans Pro (font-source-sans-pro): Latin, Latin Extended, Greek, Cyrillic;
- Lato (font-lato): Latin-1 (Western European accents).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import shutil
import tempfile
from pathlib import Path

FONT_FAMILY = "Roboto"  # the default caption family

# family name (as libass knows it) -> (package, file name prefix)
FONT_PACKAGES: dict[str, tuple[str, str]] = {
    "Roboto": ("font_roboto", "Roboto-"),
    "Source Sans Pro": ("font_source_sans_pro", "SourceSansPro-"),
    "Lato": ("font_lato", "Lato-"),
}
FONT_FAMILIES: tuple[str, ...] = tuple(FONT_PACKAGES)


@functools.lru_cache(maxsize=8)
def family_files(family: str) -> tuple[Path, ...]:
    """The TTFs of one shipped family's package (OTF duplicates and licence files left out)."""
    package, prefix = FONT_PACKAGES[family]
    files = Path(importlib.import_module(package).__file__ or "").parent / "files"
    found = tuple(sorted(p for p in files.glob(f"{prefix}*.ttf") if p.is_file()))
    if not found:
        raise RuntimeError(f"the {package} package ships no TTF files for {family}")
    return found


def _package_fonts() -> tuple[Path, ...]:
    """Every TTF of every shipped family."""
    return tuple(p for family in FONT_FAMILIES for p in family_files(family))


def font_files() -> tuple[Path, ...]:
    """The packaged TTF files (for the Lambda layer and the docs)."""
    return _package_fonts()


def _is_complete(target: Path, fonts: tuple[Path, ...]) -> bool:
    try:
        return {p.name: p.stat().st_size for p in target.iterdir()} == {f.name: f.stat().st_size for f in fonts}
    except OSError:
        return False


def fonts_dir() -> Path:
    """A folder holding only the packaged TTFs (no LICENSE or other files), made once under the temp dir.

    libass scans every file of `fontsdir`, so the packages' folders (which also hold licences) are not
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
