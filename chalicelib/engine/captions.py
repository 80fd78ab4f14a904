"""Captions: ASS subtitles from word timings (karaoke, bold, minimal), burned in by libass at render."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidOptions
from .fonts import FONT_FAMILY
from .platforms import SafeArea
from .types import CAPTION_STYLES, Word

# ASS colours are &HAABBGGRR (alpha 00 = opaque).
WHITE = "&H00FFFFFF"
HIGHLIGHT = "&H0000E1FF"  # warm yellow
BLACK = "&H00000000"
SHADOW = "&H80000000"
BREAK_GAP = 0.7  # a pause this long (s) starts a new caption
POP_MS = 80


@dataclass(frozen=True)
class _Style:
    font: str
    bold: bool
    size_frac: float  # font size as a fraction of min(width, height)
    max_words: int
    outline: float
    shadow: float
    upper: bool
    line_em: float  # average advance per character (in font sizes) used to fill a caption line


STYLES: dict[str, _Style] = {
    "karaoke": _Style(FONT_FAMILY, True, 0.082, 4, 5.0, 2.0, False, 0.55),
    "bold": _Style(f"{FONT_FAMILY} Black", False, 0.092, 3, 6.0, 3.0, True, 0.55),
    "minimal": _Style(FONT_FAMILY, False, 0.056, 8, 3.0, 1.0, False, 0.5),
}


def escape_text(text: str) -> str:
    """Make a word safe as ASS dialogue text: no override braces, backslash escapes or line breaks."""
    text = " ".join(text.split())  # newlines/tabs -> single spaces
    return text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")")


def _cs(seconds: float) -> int:
    return round(seconds * 100)


def _ts(seconds: float) -> str:
    """ASS timestamp H:MM:SS.cc."""
    cs = max(0, _cs(seconds))
    h, rem = divmod(cs, 360000)
    m, rem = divmod(rem, 6000)
    s, c = divmod(rem, 100)
    return f"{h}:{m:02d}:{s:02d}.{c:02d}"


def _groups(words: list[Word], max_words: int, max_chars: int) -> list[list[Word]]:
    """Split words into caption lines: at most max_words / max_chars, breaking at pauses and sentence ends."""
    out: list[list[Word]] = []
    cur: list[Word] = []
    for w in words:
        if cur:
            chars = sum(len(x.text.strip()) + 1 for x in cur) + len(w.text.strip())
            prev = cur[-1]
            if (
                len(cur) >= max_words
                or chars > max_chars
                or w.start - prev.end > BREAK_GAP
                or prev.text.strip().endswith((".", "?", "!", "…"))
            ):
                out.append(cur)
                cur = []
        cur.append(w)
    if cur:
        out.append(cur)
    return out


def caption_lines(words: list[Word], max_words: int = 7, max_chars: int = 42) -> list[list[Word]]:
    """Words grouped into caption lines the way the burned-in captions group them (for subtitle exports)."""
    words = sorted((w for w in words if w.text.strip()), key=lambda w: w.start)
    return _groups(words, max_words, max_chars)


def _karaoke_text(group: list[Word], start: float) -> str:
    """{\\kf..} per word, centiseconds from cumulative rounding so the sum equals the event length."""
    parts: list[str] = []
    pos = _cs(start)
    for i, w in enumerate(group):
        ws, we = _cs(w.start), _cs(w.end)
        if ws > pos:  # pause before the word: an empty syllable keeps the timing exact
            parts.append(f"{{\\k{ws - pos}}}")
            pos = ws
        we = max(we, pos)
        sep = " " if i < len(group) - 1 else ""
        parts.append(f"{{\\kf{we - pos}}}{escape_text(w.text.strip())}{sep}")
        pos = we
    return "".join(parts)


def write_ass(words: list[Word], style: str, width: int, height: int, safe_area: SafeArea, path: Path) -> Path | None:
    """Write an ASS file for `words` (clip-relative seconds) in `style`; None for style "none"."""
    if style not in CAPTION_STYLES:
        raise InvalidOptions(f"unknown caption_style {style!r} (known: {', '.join(CAPTION_STYLES)})")
    if style == "none":
        return None
    st = STYLES[style]
    size = max(12, round(min(width, height) * st.size_frac))
    pad = round(0.02 * width)
    margin_l = safe_area.left + pad
    margin_r = safe_area.right + pad
    margin_v = safe_area.bottom + pad
    usable = max(1, width - margin_l - margin_r)
    max_chars = max(8, int(usable / (st.line_em * size)))  # Roboto averages ~0.5 em per character
    words = [w for w in words if w.text.strip() and w.end > w.start - 1e-9]
    words.sort(key=lambda w: w.start)

    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {width}",
        f"PlayResY: {height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: TV.709",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, "
        "Alignment, MarginL, MarginR, MarginV, Encoding",
    ]
    primary, secondary = (HIGHLIGHT, WHITE) if style == "karaoke" else (WHITE, WHITE)
    bold = -1 if st.bold else 0
    header.append(
        f"Style: Default,{st.font},{size},{primary},{secondary},{BLACK},{SHADOW},{bold},0,0,0,100,100,0,0,1,"
        f"{st.outline:g},{st.shadow:g},2,{margin_l},{margin_r},{margin_v},1"
    )
    header += ["", "[Events]", "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"]

    events: list[str] = []
    for group in _groups(words, st.max_words, max_chars):
        start, end = group[0].start, max(w.end for w in group)
        if _cs(end) <= _cs(start):
            end = start + 0.01
        if style == "karaoke":
            text = _karaoke_text(group, start)
        elif style == "bold":
            body = " ".join(escape_text(w.text.strip()).upper() for w in group)
            text = f"{{\\fscx80\\fscy80\\t(0,{POP_MS},\\fscx100\\fscy100)}}{body}"
        else:
            text = " ".join(escape_text(w.text.strip()) for w in group)
        # a word too long for the safe width even on a line of its own: shrink this event's font
        longest = max(len(w.text.strip()) for w in group)
        em = 0.66 if st.upper else 0.58  # rough advance per character, in font sizes
        if longest * size * em > usable:
            text = f"{{\\fs{max(8, int(usable / (longest * em)))}}}{text}"
        events.append(f"Dialogue: 0,{_ts(start)},{_ts(end)},Default,,0,0,0,,{text}")

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ass", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join([*header, *events]) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
