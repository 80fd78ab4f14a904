"""Which caption font family can draw a talk's script, checked against the fonts' character maps.

The shipped families (fonts.FONT_PACKAGES: Roboto and Source Sans Pro cover Latin with its diacritics,
Cyrillic and Greek; Lato Western European Latin) are checked one by one. A talk whose words hold letters
no family has (Arabic, Hebrew, Devanagari, CJK, ...) fails with `language_unsupported` before rendering,
rather than drawing boxes. To add a family (e.g. a Noto package for another script), add its package to
fonts.FONT_PACKAGES.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

from . import fonts
from .errors import LanguageUnsupported


def families(prefer: str | None = None) -> list[tuple[str, Sequence[Path]]]:
    """(family name, its TTF files) of every shipped family: `prefer` (a style's font) first, then the
    default family, then the others."""
    order = [prefer, fonts.FONT_FAMILY, *fonts.FONT_FAMILIES]
    names = [f for f in dict.fromkeys(order) if f in fonts.FONT_PACKAGES]
    return [(family, fonts.family_files(family)) for family in names]


@functools.lru_cache(maxsize=8)
def _codepoints(paths: tuple[Path, ...]) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    covered: set[int] = set()
    for path in paths:
        with TTFont(str(path), lazy=True) as font:
            covered.update(font.getBestCmap() or {})
    return frozenset(covered)


def caption_font(text: str, prefer: str | None = None) -> str:
    """The first family (`prefer` first) that has every letter of `text`; LanguageUnsupported naming the
    letters missing from the last family tried."""
    letters = {c for c in text if c.isalpha()}
    missing: set[str] = letters
    for family, paths in families(prefer):
        missing = {c for c in letters if ord(c) not in _codepoints(tuple(paths))}
        if not missing:
            return family
    sample = "".join(sorted(missing)[:8])
    raise LanguageUnsupported(
        f"captions cannot be drawn for this talk's script: no caption font has {sample!r} "
        f"({len(missing)} letters missing); use caption_style none"
    )
