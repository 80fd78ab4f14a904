"""ASS files: event timing follows the words, karaoke durations add up, styles, escaping, safe-area margins."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine.captions import escape_text, write_ass
from chalicelib.engine.errors import InvalidOptions
from chalicelib.engine.platforms import PLATFORMS, SafeArea
from chalicelib.engine.types import Word

from .conftest import OUT_H, OUT_W


def ts(value: str) -> float:
    h, m, s = value.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_ass(path: Path) -> dict[str, Any]:
    info: dict[str, str] = {}
    style: dict[str, str] = {}
    events: list[dict[str, Any]] = []
    style_fields: list[str] = []
    event_fields: list[str] = []
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            section = line
        elif section == "[Script Info]" and ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
        elif line.startswith("Format:"):
            fields = [f.strip() for f in line[7:].split(",")]
            if section == "[V4+ Styles]":
                style_fields = fields
            else:
                event_fields = fields
        elif line.startswith("Style:"):
            style = dict(zip(style_fields, [v.strip() for v in line[6:].split(",")], strict=True))
        elif line.startswith("Dialogue:"):
            values = line[9:].split(",", len(event_fields) - 1)
            ev = dict(zip(event_fields, [v.strip() for v in values], strict=True))
            ev["start"], ev["end"] = ts(ev["Start"]), ts(ev["End"])
            events.append(ev)
    return {"info": info, "style": style, "events": events}


def plain_text(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "", text)


@pytest.fixture(scope="module")
def parsed(clip_words: list[Word], safe_area: SafeArea, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("ass")
    out = {}
    for style in ("karaoke", "bold", "minimal"):
        path = write_ass(clip_words, style, OUT_W, OUT_H, safe_area, d / f"{style}.ass")
        assert path is not None and path.exists()
        out[style] = parse_ass(path)
    return out


def match_words(events: list[dict[str, Any]], words: list[Word]) -> list[list[Word]]:
    """Assign the words, in order, to the events by their visible text."""
    groups, i = [], 0
    for ev in events:
        n = len(plain_text(ev["Text"]).split())
        groups.append(words[i : i + n])
        i += n
    assert i == len(words), "every word is captioned exactly once"
    return groups


@pytest.mark.parametrize("style", ["karaoke", "bold", "minimal"])
def test_events_follow_word_timings(parsed: dict[str, Any], clip_words: list[Word], style: str) -> None:
    events = parsed[style]["events"]
    assert events
    for ev, group in zip(events, match_words(events, clip_words), strict=True):
        assert ev["start"] == pytest.approx(group[0].start, abs=0.006)
        assert ev["end"] == pytest.approx(max(w.end for w in group), abs=0.006)
        seen = plain_text(ev["Text"]).split()
        expected = [w.text.upper() if style == "bold" else w.text for w in group]
        assert seen == expected
    starts = [ev["start"] for ev in events]
    assert starts == sorted(starts)
    for a, b in itertools.pairwise(events):
        assert a["end"] <= b["start"] + 1e-6  # one caption at a time


def test_karaoke_durations_sum(parsed: dict[str, Any], clip_words: list[Word]) -> None:
    events = parsed["karaoke"]["events"]
    for ev, group in zip(events, match_words(events, clip_words), strict=True):
        ks = [int(k) for k in re.findall(r"\\kf?(\d+)", ev["Text"])]
        assert sum(ks) == round((ev["end"] - ev["start"]) * 100)
        assert len(re.findall(r"\\kf\d+", ev["Text"])) == len(group)
        # each word's highlight starts when the word starts
        pos = ev["start"]
        kf_starts = []
        for m in re.finditer(r"\\(kf|k)(\d+)", ev["Text"]):
            if m.group(1) == "kf":
                kf_starts.append(pos)
            pos += int(m.group(2)) / 100
        assert kf_starts == pytest.approx([w.start for w in group], abs=0.011)
    st = parsed["karaoke"]["style"]
    assert st["PrimaryColour"] != st["SecondaryColour"]  # highlighted vs not-yet-said


def test_karaoke_gap_syllable(tmp_path: Path, safe_area: SafeArea) -> None:
    words = [Word("one", 1.0, 1.3), Word("two", 1.6, 2.0)]
    path = write_ass(words, "karaoke", OUT_W, OUT_H, safe_area, tmp_path / "k.ass")
    assert path is not None
    text = parse_ass(path)["events"][0]["Text"]
    assert text == "{\\kf30}one {\\k30}{\\kf40}two"


def test_bold_style(parsed: dict[str, Any]) -> None:
    data = parsed["bold"]
    assert "Black" in data["style"]["Fontname"]
    for ev in data["events"]:
        words = plain_text(ev["Text"]).split()
        assert 1 <= len(words) <= 3
        assert all(w == w.upper() for w in words)
        assert re.search(r"\\fscx8\d\\fscy8\d\\t\(0,\d+,\\fscx100\\fscy100\)", ev["Text"])
    assert sum(len(plain_text(e["Text"]).split()) >= 2 for e in data["events"]) > len(data["events"]) / 2
    assert int(data["style"]["Fontsize"]) > int(parsed["karaoke"]["style"]["Fontsize"])


def test_minimal_style(parsed: dict[str, Any]) -> None:
    data = parsed["minimal"]
    assert int(data["style"]["Fontsize"]) < int(parsed["karaoke"]["style"]["Fontsize"])
    for ev in data["events"]:
        assert "{" not in ev["Text"] and "\\N" not in ev["Text"]


@pytest.mark.parametrize("style", ["karaoke", "bold", "minimal"])
def test_layout_inside_safe_area(parsed: dict[str, Any], safe_area: SafeArea, style: str) -> None:
    data = parsed[style]
    assert (data["info"]["PlayResX"], data["info"]["PlayResY"]) == (str(OUT_W), str(OUT_H))
    st = data["style"]
    assert st["Fontname"].startswith("Roboto")
    assert st["Alignment"] == "2"  # bottom centre
    assert int(st["MarginL"]) >= safe_area.left
    assert int(st["MarginR"]) >= safe_area.right
    assert int(st["MarginV"]) >= safe_area.bottom
    assert float(st["Outline"]) >= 2
    # a two-line caption still clears the top of the safe area
    assert int(st["MarginV"]) + 3 * int(st["Fontsize"]) < OUT_H - safe_area.top


def test_none_and_unknown(tmp_path: Path, safe_area: SafeArea) -> None:
    assert write_ass([Word("a", 0, 1)], "none", OUT_W, OUT_H, safe_area, tmp_path / "n.ass") is None
    assert not (tmp_path / "n.ass").exists()
    with pytest.raises(InvalidOptions):
        write_ass([Word("a", 0, 1)], "comic", OUT_W, OUT_H, safe_area, tmp_path / "c.ass")


def test_escaping(tmp_path: Path) -> None:
    words = [Word("{\\b1}evil", 0.0, 0.5), Word("back\\Nslash", 0.5, 1.0), Word("two\nlines", 1.0, 1.5)]
    path = write_ass(words, "minimal", 1080, 1080, PLATFORMS["square"].safe_area, tmp_path / "e.ass")
    assert path is not None
    text = parse_ass(path)["events"][0]["Text"]
    assert "{" not in text and "}" not in text and "\\" not in text
    assert escape_text("a\nb") == "a b"
    assert "evil" in text and "slash" in text


def test_overlong_word_shrinks(tmp_path: Path, safe_area: SafeArea) -> None:
    words = [Word("Pneumonoultramicroscopicsilicovolcanoconiosis", 0.0, 1.0), Word("ok", 1.0, 1.2)]
    path = write_ass(words, "bold", OUT_W, OUT_H, safe_area, tmp_path / "long.ass")
    assert path is not None
    data = parse_ass(path)
    fs = re.search(r"\\fs(\d+)", data["events"][0]["Text"])
    assert fs and int(fs.group(1)) < int(data["style"]["Fontsize"])
    assert int(fs.group(1)) * 0.66 * 45 <= OUT_W - int(data["style"]["MarginL"]) - int(data["style"]["MarginR"])


def _styled(tmp_path: Path, words: list[Word], data: dict[str, Any], **kw: Any) -> str:
    from chalicelib.engine.style import Style

    path = write_ass(words, Style.model_validate(data), OUT_W, OUT_H, PLATFORMS["tiktok"].safe_area,
                     tmp_path / "s.ass", **kw)
    assert path is not None
    return path.read_text()


def test_style_fields_reach_the_ass(tmp_path: Path) -> None:
    words = [Word(t, i * 0.4, i * 0.4 + 0.3) for i, t in enumerate(["one", "two", "three", "four", "five", "six"])]
    text = _styled(tmp_path, words, {"captions": {
        "preset": "minimal", "font": "Lato", "size": 54, "color": "#102030", "outline_color": "#405060",
        "background": {"color": "#FF0000", "opacity": 0.25}, "uppercase": True, "max_words_per_line": 2,
        "max_lines": 2, "position": "middle"}})  # fmt: skip
    style = next(ln for ln in text.splitlines() if ln.startswith("Style: Default,"))
    fields = style[7:].split(",")
    assert fields[1:4] == ["Lato", "54", "&H00302010"]  # BGR, alpha 00 = opaque
    assert fields[5] == "&HBF0000FF"  # the box: red at 25 % opacity
    assert fields[15] == "3" and fields[18] == "5"  # opaque box, centred in the middle
    events = [ln.split(",", 9)[9] for ln in text.splitlines() if ln.startswith("Dialogue:")]
    assert events[0] == "ONE TWO\\NTHREE FOUR" and events[1] == "FIVE SIX"  # 2 words x 2 lines


def test_boxed_and_pop_emphasise_one_word_at_a_time(tmp_path: Path) -> None:
    words = [Word("alpha", 0.0, 0.4), Word("beta", 0.5, 0.9), Word("gamma", 1.0, 1.4)]
    for preset, mark in (("pop", "\\1c&H00FF8000"), ("boxed", "\\3c&H00FF8000")):
        text = _styled(tmp_path, words, {"captions": {"preset": preset, "highlight_color": "#0080FF"}})
        events = [ln for ln in text.splitlines() if ln.startswith("Dialogue:")]
        assert len(events) == 3  # one per word, the whole line each time
        spoken = ["ALPHA", "BETA", "GAMMA"] if preset == "pop" else ["alpha", "beta", "gamma"]
        for ev, word in zip(events, spoken, strict=True):
            assert ev.count(mark) == 1
            assert mark in ev.split(word)[0].rsplit("{\\r}", 1)[-1]  # the mark opens right before this word
        starts = [ts(ev.split(",")[1]) for ev in events]
        assert starts == pytest.approx([0.0, 0.5, 1.0], abs=0.006)


def test_hook_title_event_and_default_text(tmp_path: Path) -> None:
    text = _styled(tmp_path, [Word("hi", 0.5, 0.9)], {"captions": {"preset": "none"},
                                                       "hook_title": {"seconds": 2.5, "position": "top"}},
                   title="The clip's title")
    hook = [ln for ln in text.splitlines() if ln.startswith("Dialogue:")]
    assert len(hook) == 1 and hook[0].startswith("Dialogue: 1,0:00:00.00,0:00:02.50,Hook,")
    assert hook[0].endswith("The clip's title")
    assert "Style: Hook,Roboto Black," in text and "Style: Default" not in text
    from chalicelib.engine.style import Style

    nothing = Style.model_validate({"captions": {"preset": "none"}})
    assert write_ass([Word("hi", 0.5, 0.9)], nothing, OUT_W, OUT_H, PLATFORMS["tiktok"].safe_area,
                     tmp_path / "n.ass", title="x") is None
