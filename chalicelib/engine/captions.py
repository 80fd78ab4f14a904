"""Captions: ASS subtitles from word timings and a `Style`, burned in by libass at render.

Presets: karaoke (a colour sweep through each word), bold (uppercase Black weight, each line pops in),
minimal (small plain text), pop (the spoken word pops in the highlight colour), boxed (the spoken word
sits on a box in the highlight colour). The style's font, size, colours, background box, case, words
per line, lines and position override the preset's. An optional hook title is a second ASS style.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidOptions
from .platforms import SafeArea
from .style import DEFAULT_FONT, REFERENCE_WIDTH, Background, CaptionsStyle, HookTitle, Style
from .types import CAPTION_STYLES, Word

# ASS colours are &HAABBGGRR (alpha 00 = opaque).
WHITE = "&H00FFFFFF"
HIGHLIGHT = "&H0000E1FF"  # warm yellow
BLACK = "&H00000000"
SHADOW = "&H80000000"
BREAK_GAP = 0.7  # a pause this long (s) starts a new caption
POP_MS = 80
ALIGNMENT = {"bottom": 2, "middle": 5, "top": 8}  # centred horizontally


@dataclass(frozen=True)
class _Preset:
    weight: str  # regular | bold | black
    size_frac: float  # font size as a fraction of min(width, height)
    max_words: int
    outline: float
    shadow: float
    upper: bool
    line_em: float  # average advance per character (in font sizes) used to fill a caption line


PRESETS: dict[str, _Preset] = {
    "karaoke": _Preset("bold", 0.082, 4, 5.0, 2.0, False, 0.55),
    "bold": _Preset("black", 0.092, 3, 6.0, 3.0, True, 0.55),
    "minimal": _Preset("regular", 0.056, 8, 3.0, 1.0, False, 0.5),
    "pop": _Preset("black", 0.086, 3, 5.0, 2.0, True, 0.55),
    "boxed": _Preset("bold", 0.08, 4, 4.0, 0.0, False, 0.58),
}


def ass_color(color: str | None, default: str) -> str:
    """#RRGGBB or #RRGGBBAA (AA = opacity, FF opaque) as an ASS &HAABBGGRR colour (AA = transparency)."""
    if not color:
        return default
    rgb, alpha = color[1:7], color[7:9] or "FF"
    return f"&H{255 - int(alpha, 16):02X}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}".upper()


def _box_color(bg: Background) -> str:
    return f"&H{round(255 * (1 - bg.opacity)):02X}{ass_color(bg.color, BLACK)[4:]}"


def _font(family: str | None, weight: str) -> tuple[str, int]:
    """(ASS Fontname, Bold flag) for a shipped family at a weight (the Black faces are families of their own)."""
    family = family or DEFAULT_FONT
    if weight == "black":
        return f"{family} Black", 0
    return family, -1 if weight == "bold" else 0


def _style_line(name: str, font: tuple[str, int], size: int, primary: str, secondary: str, outline_color: str,
                back: str, border_style: int, outline: float, shadow: float, alignment: int,
                margins: tuple[int, int, int]) -> str:
    return (
        f"Style: {name},{font[0]},{size},{primary},{secondary},{outline_color},{back},{font[1]},0,0,0,100,100,0,0,"
        f"{border_style},{outline:g},{shadow:g},{alignment},{margins[0]},{margins[1]},{margins[2]},1"
    )


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


def _lines(group: list[Word], per_line: int, max_chars: int) -> set[int]:
    """Indices of the words after which a multi-line caption breaks (\\N)."""
    breaks: set[int] = set()
    count, chars = 0, 0
    for i, w in enumerate(group):
        n = len(w.text.strip())
        if count and (count >= per_line or chars + 1 + n > max_chars):
            breaks.add(i - 1)
            count, chars = 0, 0
        count, chars = count + 1, chars + (n if not count else n + 1)
    return breaks


def _sep(i: int, group: list[Word], breaks: set[int]) -> str:
    if i == len(group) - 1:
        return ""
    return "\\N" if i in breaks else " "


def _karaoke_text(group: list[Word], start: float, words: list[str], breaks: set[int]) -> str:
    """{\\kf..} per word, centiseconds from cumulative rounding so the sum equals the event length."""
    parts: list[str] = []
    pos = _cs(start)
    for i, w in enumerate(group):
        ws, we = _cs(w.start), _cs(w.end)
        if ws > pos:  # pause before the word: an empty syllable keeps the timing exact
            parts.append(f"{{\\k{ws - pos}}}")
            pos = ws
        we = max(we, pos)
        parts.append(f"{{\\kf{we - pos}}}{words[i]}{_sep(i, group, breaks)}")
        pos = we
    return "".join(parts)


def _active_text(words: list[str], active: int, group: list[Word], breaks: set[int], preset: str,
                 highlight: str, pad: int) -> str:
    """The caption with word `active` emphasised: popped in the highlight colour, or boxed in it."""
    out: list[str] = []
    for i, text in enumerate(words):
        if i == active and preset == "pop":
            text = (f"{{\\1c{highlight}\\fscx85\\fscy85\\t(0,{POP_MS},\\fscx112\\fscy112)}}"
                    f"{text}{{\\r}}")
        elif i == active:  # boxed: a thick outline in the highlight colour reads as a box around the word
            text = f"{{\\3c{highlight}\\bord{pad}\\shad0}}{text}{{\\r}}"
        out.append(text + _sep(i, group, breaks))
    return "".join(out)


@dataclass(frozen=True)
class _Layout:
    size: int
    usable: int
    max_chars: int
    per_line: int
    lines: int
    upper: bool
    em: float


def _layout(cap: CaptionsStyle, pre: _Preset, width: int, height: int, margins: tuple[int, int]) -> _Layout:
    scale = min(width, height)
    size = round(cap.size * scale / REFERENCE_WIDTH) if cap.size else max(12, round(scale * pre.size_frac))
    usable = max(1, width - margins[0] - margins[1])
    max_chars = max(8, int(usable / (pre.line_em * size)))  # ~0.5 em per character
    upper = pre.upper if cap.uppercase is None else cap.uppercase
    return _Layout(size, usable, max_chars, cap.max_words_per_line or pre.max_words, cap.max_lines or 1, upper,
                   0.66 if upper else 0.58)


def _margin_v(position: str, safe_area: SafeArea, pad: int) -> int:
    return (safe_area.top if position == "top" else safe_area.bottom) + pad


def _hook_lines(hook: HookTitle, title: str | None, width: int, height: int, safe_area: SafeArea, pad: int,
                avoid: tuple[str, int] | None) -> tuple[str, str] | None:
    """(style line, dialogue line) of the hook title, or None without text."""
    text = (hook.text or title or "").strip()
    if not text:
        return None
    size = round(hook.size * min(width, height) / REFERENCE_WIDTH)
    margin_v = _margin_v(hook.position, safe_area, pad)
    if avoid is not None and avoid[0] == hook.position and hook.position != "middle":
        margin_v += avoid[1]  # the captions sit at the same edge: the title goes further in
    bg = hook.background
    style = _style_line(
        "Hook", _font(hook.font, "black"), size, ass_color(hook.color, WHITE), ass_color(hook.color, WHITE),
        _box_color(bg) if bg else ass_color(hook.outline_color, BLACK), SHADOW, 3 if bg else 1,
        max(4, round(size * 0.2)) if bg else max(2.0, size / 16), 0 if bg else 2,
        ALIGNMENT[hook.position], (safe_area.left + pad, safe_area.right + pad, margin_v),
    )
    body = escape_text(text)
    return style, f"Dialogue: 1,{_ts(0)},{_ts(hook.seconds)},Hook,,0,0,0,,{{\\fad(120,0)}}{body}"


def write_ass(
    words: list[Word],
    style: str | Style,
    width: int,
    height: int,
    safe_area: SafeArea,
    path: Path,
    *,
    title: str | None = None,
) -> Path | None:
    """Write an ASS file for `words` (clip-relative seconds) in `style` (a Style or a preset name).

    `title` is the hook title's default text. None when there is nothing to draw (preset "none", no hook).
    """
    if isinstance(style, str):
        if style not in CAPTION_STYLES:
            raise InvalidOptions(f"unknown caption_style {style!r} (known: {', '.join(CAPTION_STYLES)})")
        style = Style.model_validate({"captions": {"preset": style}})
    preset, cap = style.preset, style.captions
    pad = round(0.02 * width)
    margins = (safe_area.left + pad, safe_area.right + pad)
    position = cap.position or "bottom"

    styles: list[str] = []
    events: list[str] = []
    block = 0
    if preset != "none":
        pre = PRESETS[preset]
        lay = _layout(cap, pre, width, height, margins)
        block = round(lay.size * 1.3 * lay.lines) + pad
        color, highlight = ass_color(cap.color, WHITE), ass_color(cap.highlight_color, HIGHLIGHT)
        outline_color = ass_color(cap.outline_color, BLACK)
        primary, secondary = (highlight, color) if preset == "karaoke" else (color, color)
        border, outline, shadow = 1, pre.outline, pre.shadow
        if cap.background is not None:
            border, outline, shadow = 3, max(4, round(lay.size * 0.18)), 0
            outline_color = _box_color(cap.background)
        styles.append(_style_line(
            "Default", _font(cap.font, pre.weight), lay.size, primary, secondary, outline_color, SHADOW, border,
            outline, shadow, ALIGNMENT[position], (*margins, _margin_v(position, safe_area, pad)),
        ))
        events += _caption_events(words, preset, lay, highlight)
    hook = None
    if style.hook_title is not None:
        hook = _hook_lines(style.hook_title, title, width, height, safe_area, pad,
                           (position, block) if preset != "none" else None)
    if hook is not None:
        styles.append(hook[0])
        events.insert(0, hook[1])
    if not styles:
        return None
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
        *styles,
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    return _write_atomic(Path(path), "\n".join([*header, *events]) + "\n")


def _caption_events(words: list[Word], preset: str, lay: _Layout, highlight: str) -> list[str]:
    """The Dialogue lines of the captions."""
    words = sorted((w for w in words if w.text.strip() and w.end > w.start - 1e-9), key=lambda w: w.start)
    events: list[str] = []
    for group in _groups(words, lay.per_line * lay.lines, lay.max_chars * lay.lines):
        start, end = group[0].start, max(w.end for w in group)
        if _cs(end) <= _cs(start):
            end = start + 0.01
        texts = [escape_text(w.text.strip()) for w in group]
        if lay.upper:
            texts = [t.upper() for t in texts]
        breaks = _lines(group, lay.per_line, lay.max_chars) if lay.lines > 1 else set()
        # a word too long for the safe width even on a line of its own: shrink this event's font
        longest = max(len(w.text.strip()) for w in group)
        shrink = ""
        if longest * lay.size * lay.em > lay.usable:
            shrink = f"{{\\fs{max(8, int(lay.usable / (longest * lay.em)))}}}"
        if preset in ("pop", "boxed"):
            pad = max(4, round(lay.size * 0.16))
            for i, w in enumerate(group):
                w_end = group[i + 1].start if i + 1 < len(group) else end
                w_start = start if i == 0 else w.start
                if _cs(w_end) <= _cs(w_start):
                    continue
                text = _active_text(texts, i, group, breaks, preset, highlight, pad)
                events.append(f"Dialogue: 0,{_ts(w_start)},{_ts(w_end)},Default,,0,0,0,,{shrink}{text}")
            continue
        if preset == "karaoke":
            text = _karaoke_text(group, start, texts, breaks)
        elif preset == "bold":
            body = "".join(t + _sep(i, group, breaks) for i, t in enumerate(texts))
            text = f"{{\\fscx80\\fscy80\\t(0,{POP_MS},\\fscx100\\fscy100)}}{body}"
        else:
            text = "".join(t + _sep(i, group, breaks) for i, t in enumerate(texts))
        events.append(f"Dialogue: 0,{_ts(start)},{_ts(end)},Default,,0,0,0,,{shrink}{text}")
    return events


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".ass", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
