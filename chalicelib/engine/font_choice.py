"""Which caption font family can draw a talk's script, checked against the fonts' character maps.

The bundled family (fonts.FONT_FAMILY, Roboto from the font-roboto package) covers Latin with its
diacritics, Cyrillic and Greek. A talk whose words hold letters none of the families has (Arabic, Hebrew,
Devanagari, CJK, ...) fails with `language_unsupported` before rendering, rather than drawing boxes.
To add a family (e.g. a Noto package for another script), append (family, TTF paths) to families().
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from . import fonts
from .errors import LanguageUnsupported


def families() -> list[tuple[str, Sequence[Path]]]:
    """(family name, its TTF files), in order of preference."""
    return [(fonts.FONT_FAMILY, fonts._package_fonts())]


@functools.lru_cache(maxsize=8)
def _codepoints(paths: tuple[Path, ...]) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for path in paths:
        with TTFont(str(path), lazy=True) as font:
            covered.update(font.getBestCmap() or {})
    return frozenset(covered)


def caption_font(text: str) -> str:
    """The first family that has every letter of `text`; LanguageUnsupported naming the missing ones."""
    letters = {c for c in text if c.isalpha()}
    missing: set[str] = letters
    for family, paths in families():
        missing = {c for c in letters if ord(c) not in _codepoints(tuple(paths))}
        if not missing:
            return family
    sample = "".join(sorted(missing)[:8])
    raise LanguageUnsupported(
        f"captions cannot be drawn for this talk's script: no caption font has {sample!r} "
        f"({len(missing)} letters missing); use caption_style none"
    )
