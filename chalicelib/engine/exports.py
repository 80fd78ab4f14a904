"""Exports for editors: a clip's captions (SRT, WebVTT, ASS) on its own timeline, and a timeline of clips
(OpenTimelineIO JSON, Final Cut Pro X XML, Final Cut Pro 7 XML, CMX 3600 EDL) built with OpenTimelineIO.

Plain data in, text out. The timeline references the source media by its original URL or file name; each
clip's source ranges are edits on one video track, a marker on each clip's first edit carries its title and
virality score, and the captions are markers on the edits (none of the editor formats carries subtitles).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import captions
from .errors import InvalidOptions
from .platforms import SafeArea
from .style import Style
from .types import Word

CAPTION_FORMATS: dict[str, str] = {"srt": "application/x-subrip", "vtt": "text/vtt", "ass": "text/x-ssa"}
# format -> (OpenTimelineIO adapter, content type, file extension)
TIMELINE_FORMATS: dict[str, tuple[str, str, str]] = {
    "otio": ("otio_json", "application/json", "otio"),
    "fcpxml": ("fcpx_xml", "application/xml", "fcpxml"),
    "fcp7xml": ("fcp_xml", "application/xml", "xml"),
    "edl": ("cmx_3600", "text/plain", "edl"),
}
DEFAULT_RATE = 30.0


def _clock(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(words: Sequence[Word]) -> list[tuple[float, float, str]]:
    return [(g[0].start, max(w.end for w in g), " ".join(w.text.strip() for w in g))
            for g in captions.caption_lines(list(words))]


def to_srt(words: Sequence[Word]) -> str:
    """SubRip: one numbered cue per caption line, in clip seconds."""
    blocks = [f"{n}\n{_clock(a, ',')} --> {_clock(b, ',')}\n{text}\n" for n, (a, b, text) in enumerate(_cues(words), 1)]
    return "\n".join(blocks)


def to_vtt(words: Sequence[Word]) -> str:
    """WebVTT: the same cues as the SRT."""
    blocks = [f"{_clock(a, '.')} --> {_clock(b, '.')}\n{text}\n" for a, b, text in _cues(words)]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_ass(words: Sequence[Word], style: Style | str, width: int, height: int, safe_area: SafeArea,
           title: str | None = None) -> str:
    """The ASS file the renderer burns in (the same style, hook title, size and safe area); empty when it
    draws nothing."""
    with tempfile.TemporaryDirectory(prefix="klipstar-ass-") as tmp:
        path = captions.write_ass(list(words), style, width, height, safe_area, Path(tmp) / "captions.ass",
                                  title=title)
        return path.read_text(encoding="utf-8") if path else ""


def caption_text(fmt: str, words: Sequence[Word], *, style: Style | str = "karaoke", width: int = 1080,
                 height: int = 1920, safe_area: SafeArea | None = None, title: str | None = None) -> str:
    if fmt == "srt":
        return to_srt(words)
    if fmt == "vtt":
        return to_vtt(words)
    if fmt == "ass":
        return to_ass(words, style, width, height, safe_area or SafeArea(0, 0, 0, 0), title)
    raise InvalidOptions(f"unknown caption format {fmt!r} (known: {', '.join(CAPTION_FORMATS)})")


@dataclass
class ExportClip:
    """One clip as the timeline sees it: source ranges in source seconds, words in clip seconds."""

    clip_id: str
    title: str
    score: float
    source_ranges: list[tuple[float, float]]
    words: list[Word] = field(default_factory=list)


@dataclass
class ExportMedia:
    """The source the clips cut from: its original URL (or file name), duration and frame rate."""

    name: str
    url: str
    duration: float
    fps: float = DEFAULT_RATE


def _rate(fps: float) -> float:
    return float(fps) if fps and fps > 0 else DEFAULT_RATE


def _time(seconds: float, rate: float) -> Any:
    import opentimelineio as otio

    return otio.opentime.RationalTime(round(seconds * rate), rate)


def _range(start: float, end: float, rate: float) -> Any:
    import opentimelineio as otio

    first = round(start * rate)
    return otio.opentime.TimeRange(otio.opentime.RationalTime(first, rate),
                                   otio.opentime.RationalTime(max(1, round(end * rate) - first), rate))


def build_timeline(name: str, media: ExportMedia, clips: Sequence[ExportClip]) -> Any:
    """An OpenTimelineIO Timeline: the clips' source ranges back to back on one video track."""
    import opentimelineio as otio

    rate = _rate(media.fps)
    timeline = otio.schema.Timeline(name=name)
    timeline.global_start_time = otio.opentime.RationalTime(0, rate)
    track = otio.schema.Track(name="Klipstar clips", kind=otio.schema.TrackKind.Video)
    available = _range(0.0, max(media.duration, max((e for c in clips for _, e in c.source_ranges), default=0)), rate)
    for clip in clips:
        offset = 0.0  # clip seconds at the start of this range
        for n, (start, end) in enumerate(clip.source_ranges):
            item = otio.schema.Clip(
                name=clip.title if len(clip.source_ranges) == 1 else f"{clip.title} ({n + 1})",
                media_reference=otio.schema.ExternalReference(target_url=media.url, available_range=available),
                source_range=_range(start, end, rate),
                metadata={"klipstar": {"clip_id": clip.clip_id, "virality_score": clip.score, "range": n}},
            )
            item.media_reference.name = media.name
            if n == 0:
                item.markers.append(otio.schema.Marker(
                    name=f"{clip.title} (score {clip.score:g})", marked_range=_range(start, start, rate),
                    color=otio.schema.MarkerColor.RED,
                    metadata={"klipstar": {"clip_id": clip.clip_id, "title": clip.title, "virality_score": clip.score}},
                ))
            span = end - start
            for a, b, text in _cues([w for w in clip.words if offset - 1e-6 <= w.start < offset + span]):
                item.markers.append(otio.schema.Marker(
                    name=text, marked_range=_range(start + a - offset, start + b - offset, rate),
                    color=otio.schema.MarkerColor.YELLOW, metadata={"klipstar": {"caption": text}},
                ))
            offset += span
            track.append(item)
    timeline.tracks.append(track)
    return timeline


def timeline_text(fmt: str, name: str, media: ExportMedia, clips: Sequence[ExportClip]) -> str:
    """The timeline written by the format's OpenTimelineIO adapter."""
    if fmt not in TIMELINE_FORMATS:
        raise InvalidOptions(f"unknown export format {fmt!r} (known: {', '.join(TIMELINE_FORMATS)})")
    import opentimelineio as otio

    return str(otio.adapters.write_to_string(build_timeline(name, media, clips), TIMELINE_FORMATS[fmt][0]))


EXPORT_CHOICES: tuple[str, ...] = (*TIMELINE_FORMATS, *CAPTION_FORMATS)


def parse_formats(text: str) -> list[str]:
    """`otio,fcpxml,srt` -> the formats, in order, without repeats; InvalidOptions for an unknown one."""
    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    for fmt in formats:
        if fmt not in EXPORT_CHOICES:
            raise InvalidOptions(f"unknown export format {fmt!r} (known: {', '.join(EXPORT_CHOICES)})")
    return formats


def summary_clip(summary: dict[str, Any]) -> ExportClip:
    """An ExportClip from a clip in the manifest's (webhook) shape."""
    words = [Word(w["text"], float(w["start"]), float(w["end"])) for w in summary["transcript"]["words"]]
    ranges = summary.get("source_ranges") or [[summary["start"], summary["end"]]]
    return ExportClip(summary["id"], summary["title"], float(summary["virality_score"]),
                      [(float(a), float(b)) for a, b in ranges], words)


def write_exports(out_dir: Path, formats: Sequence[str], name: str, media: ExportMedia,
                  clips: Sequence[dict[str, Any]], *, caption_style: str, width: int, height: int,
                  safe_area: SafeArea) -> dict[str, Any]:
    """Write each format beside the manifest: one timeline file, captions one file per clip.

    Returns {format: path, or {clip id: path} for captions} for the manifest."""
    written: dict[str, Any] = {}
    export_clips = [summary_clip(c) for c in clips]
    for fmt in formats:
        if fmt in TIMELINE_FORMATS:
            path = out_dir / f"timeline.{TIMELINE_FORMATS[fmt][2]}"
            path.write_text(timeline_text(fmt, name, media, export_clips), encoding="utf-8")
            written[fmt] = str(path)
            continue
        written[fmt] = {}
        for clip in export_clips:
            path = out_dir / f"{clip.clip_id}.{fmt}"
            path.write_text(caption_text(fmt, clip.words, style=caption_style, width=width, height=height,
                                         safe_area=safe_area), encoding="utf-8")
            written[fmt][clip.clip_id] = str(path)
    return written
