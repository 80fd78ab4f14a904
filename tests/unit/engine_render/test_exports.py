"""Editor exports on synthetic words: snapping to pauses, SRT/WebVTT read back by subtitle parsers, ASS with
corrected words, and every timeline format read back through OpenTimelineIO to the frame."""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio
import pytest
import srt
import webvtt

from chalicelib.engine import exports
from chalicelib.engine.edit import snap_range
from chalicelib.engine.errors import InvalidOptions
from chalicelib.engine.platforms import PLATFORMS
from chalicelib.engine.style import Style
from chalicelib.engine.types import Transcript, Word

# three sentences; 0.05 s gaps inside them, 0.6 s pauses between them
TEXT = ["Price", "is", "a", "signal.", "Charge", "for", "outcomes.", "Never", "for", "costs."]
TIMES = [(1.0, 1.4), (1.45, 1.6), (1.65, 1.7), (1.75, 2.3), (2.9, 3.3), (3.35, 3.5), (3.55, 4.2),
         (4.8, 5.1), (5.15, 5.3), (5.35, 5.9)]


def transcript() -> Transcript:
    return Transcript("en", 7.0, [Word(t, a, b) for t, (a, b) in zip(TEXT, TIMES, strict=True)])


def test_snap_moves_cuts_into_the_nearest_pauses_and_says_by_how_much() -> None:
    t = transcript()
    snapped = snap_range(t, 1.5, 4.0)  # inside "is" .. inside "outcomes."
    assert (snapped.first_word, snapped.last_word) == (0, 6)
    assert 0.0 <= snapped.start <= 1.0 and 4.2 <= snapped.end <= (4.2 + 4.8) / 2
    for w in t.words:  # no word straddles a cut
        assert w.end <= snapped.start or w.start >= snapped.end or snapped.start <= w.start <= w.end <= snapped.end
    report = snapped.report()
    assert report["start"]["by"] == pytest.approx(snapped.start - 1.5, abs=1e-3)
    assert report["end"] == {"requested": 4.0, "snapped": snapped.end, "by": round(snapped.end - 4.0, 3)}
    extended = snap_range(t, 2.6, 6.5)  # past the last word: ends after "costs."
    assert (extended.first_word, extended.last_word) == (4, 9) and extended.end >= 5.9


def test_snap_refuses_a_range_without_whole_words() -> None:
    with pytest.raises(InvalidOptions):
        snap_range(transcript(), 3.3, 3.0)
    with pytest.raises(InvalidOptions):
        snap_range(Transcript("en", 5.0, []), 0.0, 2.0)


def _clip_words() -> list[Word]:
    t = transcript()
    return t.with_fixes({"4": "Bill"}).clip_words(0.7, 6.2)


def test_srt_and_vtt_parse_and_carry_the_word_timings() -> None:
    words = _clip_words()
    srt_cues = list(srt.parse(exports.to_srt(words)))
    vtt_cues = webvtt.from_string(exports.to_vtt(words)).captions
    assert " ".join(c.content for c in srt_cues) == " ".join(w.text for w in words)
    assert " ".join(c.text for c in vtt_cues) == " ".join(w.text for w in words)
    assert "Bill" in srt_cues[1].content  # the correction, at the corrected word's own timing
    n = 0
    for cue, vcue in zip(srt_cues, vtt_cues, strict=True):
        group = words[n : n + len(cue.content.split())]
        n += len(group)
        assert cue.start.total_seconds() == pytest.approx(group[0].start, abs=1e-3)
        assert cue.end.total_seconds() == pytest.approx(max(w.end for w in group), abs=1e-3)
        assert (vcue.start, vcue.end) == (exports._clock(group[0].start, "."), exports._clock(group[-1].end, "."))


def test_ass_is_the_burned_in_file_with_corrections() -> None:
    p = PLATFORMS["youtube_shorts"]
    ass = exports.caption_text("ass", _clip_words(), style="bold", width=p.width, height=p.height,
                               safe_area=p.safe_area)
    assert "PlayResX: 1080" in ass and "BILL" in ass and "CHARGE" not in ass
    assert exports.caption_text("ass", _clip_words(), style="none") == ""
    with pytest.raises(InvalidOptions):
        exports.caption_text("docx", _clip_words())
    # a full style: the same file the renderer burns in (font, hook title from the clip's title)
    styled = exports.caption_text(
        "ass", _clip_words(), style=Style.from_dict({"captions": {"preset": "pop", "font": "Lato"},
                                                     "hook_title": {"seconds": 1.5}}),
        width=p.width, height=p.height, safe_area=p.safe_area, title="Pricing is a signal",
    )
    assert "Style: Default,Lato Black," in styled and "Hook,,0,0,0,,{\\fad(120,0)}Pricing is a signal" in styled


READERS = {"otio": {}, "fcpxml": {}, "fcp7xml": {}, "edl": {"rate": 25}}


def assert_end_frame(fmt: str, read: int, expected: int) -> None:
    """otio-fcpx-xml-adapter 1.0.0 reads "114/25s" as int(114 / 25 * 25) = 113 (float truncation), so its
    read-back end may be one frame short; the file itself is checked exactly by assert_fcpxml_exact."""
    assert read == expected or (fmt == "fcpxml" and read == expected - 1), (read, expected)


def assert_fcpxml_exact(text: str, ranges: list[tuple[float, float]], rate: int) -> None:
    """Every spine clip's start and duration in the FCP X XML are the exact frame rationals of `ranges`."""
    import xml.etree.ElementTree as ET

    spine = ET.fromstring(text).find("./project/sequence/spine")
    assert spine is not None
    def seconds(value: str | None) -> Fraction:
        return Fraction(str(value).removesuffix("s"))

    got = [(seconds(c.get("start")), seconds(c.get("duration"))) for c in spine.findall("clip")]
    want = [(Fraction(round(a * rate), rate), Fraction(round(b * rate) - round(a * rate), rate)) for a, b in ranges]
    assert got == want


@pytest.mark.parametrize("fmt", list(exports.TIMELINE_FORMATS))
def test_timelines_read_back_to_the_frame(fmt: str) -> None:
    clips = [
        exports.ExportClip("clip_a", "Price is a signal", 87, [(22.34, 52.9)], _clip_words()),
        exports.ExportClip("clip_b", "Two ranges", 64, [(60.1, 70.52), (75.0, 80.04), (60.24, 64.808)],
                           _clip_words()),
    ]
    media = exports.ExportMedia("talk.mp4", "https://videos.example.com/talk.mp4", 151.47, 25.0)
    text = exports.timeline_text(fmt, "proj_x", media, clips)
    back = otio.adapters.read_from_string(text, exports.TIMELINE_FORMATS[fmt][0], **READERS[fmt])
    edits = list(back.find_clips())
    ranges = [r for c in clips for r in c.source_ranges]
    assert len(edits) == len(ranges)
    for edit, (start, end) in zip(edits, ranges, strict=True):
        assert edit.source_range.start_time.to_frames() == round(start * 25)
        assert_end_frame(fmt, edit.source_range.end_time_exclusive().to_frames(), round(end * 25))
        assert edit.media_reference.target_url == media.url
    if fmt == "fcpxml":
        assert_fcpxml_exact(text, ranges, 25)
    first = " ".join(m.name for m in edits[0].markers).lower()
    assert "price is a signal (score 87)" in first and "bill" in first  # title, score, a caption marker


def test_unknown_timeline_format_is_refused() -> None:
    with pytest.raises(InvalidOptions):
        exports.timeline_text("aaf", "p", exports.ExportMedia("a", "a", 1.0), [])
    assert exports.parse_formats("otio, srt,otio") == ["otio", "srt"]
    with pytest.raises(InvalidOptions):
        exports.parse_formats("otio,docx")
