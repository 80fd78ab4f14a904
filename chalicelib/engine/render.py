"""Render: one ffmpeg run per clip and output size (seek, crop path or fit, cut timeline, captions, watermark,
H.264/AAC, faststart, and the thumbnail as a second output)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import av

from ..settings import Settings
from .errors import RenderFailed
from .ffmpeg import run_ffmpeg, url_input_options
from .fonts import fonts_dir
from .platforms import SafeArea
from .reframe import crop_expressions
from .types import CropPlan, CropSegment, RenderedFile

OUT_FPS = 30
AUDIO_RATE = 48000
AUDIO_BITRATE = "128k"
BLUR_DOWNSCALE = 8  # the fit background is blurred at 1/8 size, then upscaled
CROSSFADE = 0.008  # seconds of audio crossfade at each join of a tightened clip
AUDIO_FORMAT = "aformat=channel_layouts=mono|stereo"


@dataclass(frozen=True)
class WatermarkSpec:
    """A logo image file over the video: in `corner` inside `safe_area`, `scale` x the frame width."""

    path: Path
    corner: str
    scale: float
    opacity: float
    safe_area: SafeArea


def escape_filter_value(value: str) -> str:
    """Escape a string for use as a filter option value inside a filtergraph (both escaping levels)."""
    level1 = "".join("\\" + c if c in "\\':" else c for c in value)
    return "".join("\\" + c if c in "\\'[],;" else c for c in level1)


def _even(v: float) -> int:
    n = max(2, round(v))
    return n - n % 2


def _fit_chain(src: str, ow: int, oh: int, label: str) -> str:
    """[src] -> [label]: the whole frame scaled to fit, over a blurred scaled-to-fill copy of itself."""
    bw, bh = _even(ow / BLUR_DOWNSCALE), _even(oh / BLUR_DOWNSCALE)
    radius = max(2, min(bw, bh) // 10)
    return (
        f"[{src}]split=2[{label}bs][{label}fs];"
        f"[{label}bs]scale={bw}:{bh}:force_original_aspect_ratio=increase,crop={bw}:{bh},"
        f"boxblur={radius}:2,scale={ow}:{oh}[{label}bg];"
        f"[{label}fs]scale={ow}:{oh}:force_original_aspect_ratio=decrease:force_divisible_by=2[{label}fg];"
        f"[{label}bg][{label}fg]overlay=(W-w)/2:(H-h)/2:format=yuv420[{label}]"
    )


def _crop_chain(src: str, plan: CropPlan, segments: list[CropSegment], ow: int, oh: int, label: str) -> str:
    x, y = crop_expressions(plan, segments)
    return f"[{src}]crop=w={plan.crop_w}:h={plan.crop_h}:x='{x}':y='{y}',scale={ow}:{oh},format=yuv420p[{label}]"


def _split_chain(src: str, seg: CropSegment, ow: int, oh: int, label: str) -> str:
    """[src] -> [label]: two still crops (seg.panes), stacked for portrait/square outputs, else side by side."""
    stacked = oh >= ow
    pw, ph = (ow, _even(oh / 2)) if stacked else (_even(ow / 2), oh)
    chains = []
    for n, (x, y, w, h) in enumerate(seg.panes[:2]):
        chains.append(f"[{label}p{n}]crop=w={_even(w)}:h={_even(h)}:x={x:.1f}:y={y:.1f},scale={pw}:{ph},setsar=1[{label}q{n}]")
    stack = "vstack" if stacked else "hstack"
    pad = f",pad={ow}:{oh}:0:0" if (stacked and 2 * ph != oh) or (not stacked and 2 * pw != ow) else ""
    return (
        f"[{src}]split=2[{label}p0][{label}p1];" + ";".join(chains)
        + f";[{label}q0][{label}q1]{stack}=inputs=2{pad},format=yuv420p[{label}]"
    )


def _runs(segments: list[CropSegment]) -> list[list[CropSegment]]:
    """Consecutive segments grouped by layout (each split segment on its own: its panes differ)."""
    runs: list[list[CropSegment]] = []
    for s in segments:
        if runs and runs[-1][-1].layout == s.layout and s.layout != "split":
            runs[-1].append(s)
        else:
            runs.append([s])
    return runs


def framing_filter(plan: CropPlan, *, fps_first: bool = True, anamorphic: bool = True) -> str:
    """Input 0's video framed by `plan`, to the [framed] label (clip timeline, before any cut).

    fps_first converts to 30 fps before framing (saves work on 50/60 fps sources); otherwise the
    caller converts after it, so a 25 fps source is cropped and scaled 25 times a second, not 30.
    anamorphic sources are made square-pixel first, as the plan assumes (skipped for square pixels:
    that pass costs ~5 %).
    """
    ow, oh = _even(plan.out_width), _even(plan.out_height)
    early = f",fps={OUT_FPS}" if fps_first else ""
    square = "scale=trunc(iw*sar/2)*2:ih,setsar=1" if anamorphic else "setsar=1"
    graph = f"[0:v]setpts=PTS-STARTPTS,{square}{early}[src];"
    if plan.layout == "fit":
        return graph + _fit_chain("src", ow, oh, "framed")
    if not plan.crop_w or not plan.crop_h or not plan.segments:
        raise RenderFailed("crop plan has no crop window")
    runs = _runs(plan.segments)
    if len(runs) == 1 and runs[0][0].layout == "crop":
        return graph + _crop_chain("src", plan, plan.segments, ow, oh, "framed")
    # shots alternate between crop, fit and split: trim each run (timestamps kept), frame it, concat
    graph += f"[src]split={len(runs)}" + "".join(f"[in{i}]" for i in range(len(runs))) + ";"
    for i, run in enumerate(runs):
        start = "" if i == 0 else f"start={run[0].t0:.3f}"
        end = "" if i == len(runs) - 1 else f"end={run[-1].t1:.3f}"
        trim = ":".join(p for p in (start, end) if p)
        graph += f"[in{i}]trim={trim}[t{i}];" if trim else f"[in{i}]null[t{i}];"
        if run[0].layout == "fit":
            graph += _fit_chain(f"t{i}", ow, oh, f"r{i}") + ";"
        elif run[0].layout == "split":
            graph += _split_chain(f"t{i}", run[0], ow, oh, f"r{i}") + ";"
        else:
            graph += _crop_chain(f"t{i}", plan, run, ow, oh, f"r{i}") + ";"
        graph += f"[r{i}]setpts=PTS-STARTPTS,setsar=1[c{i}];"
    return graph + "".join(f"[c{i}]" for i in range(len(runs))) + f"concat=n={len(runs)}:v=1:a=0[framed]"

def timeline_filter(src: str, ranges: list[tuple[float, float]] | None, out: str) -> str:
    """[src] (clip seconds) -> [out]: only the kept `ranges`, joined (a plain pass-through without cuts)."""
    if not ranges:
        return f"[{src}]null[{out}]"
    n = len(ranges)
    graph = f"[{src}]split={n}" + "".join(f"[{out}s{i}]" for i in range(n)) + ";"
    for i, (a, b) in enumerate(ranges):
        graph += f"[{out}s{i}]trim=start={a:.4f}:end={b:.4f},setpts=PTS-STARTPTS[{out}k{i}];"
    return graph + "".join(f"[{out}k{i}]" for i in range(n)) + f"concat=n={n}:v=1:a=0[{out}]"


def audio_filter(ranges: list[tuple[float, float]] | None, out: str = "a") -> str:
    """Input 0's audio (clip seconds) -> [out]: the kept `ranges` joined with a CROSSFADE-second crossfade.

    Each range but the last runs CROSSFADE past its end, so the crossfades add no time: the audio is as
    long as the kept ranges and every join lands where the video cuts.
    """
    base = f"[0:a:0]{AUDIO_FORMAT}"
    if not ranges:
        return f"{base}[{out}]"
    n = len(ranges)
    if n == 1:
        a, b = ranges[0]
        return f"{base},atrim=start={a:.4f}:end={b:.4f},asetpts=PTS-STARTPTS[{out}]"
    graph = f"{base},asplit={n}" + "".join(f"[{out}s{i}]" for i in range(n)) + ";"
    for i, (a, b) in enumerate(ranges):
        tail = CROSSFADE if i < n - 1 else 0.0
        graph += f"[{out}s{i}]atrim=start={a:.4f}:end={b + tail:.4f},asetpts=PTS-STARTPTS[{out}k{i}];"
    prev = f"{out}k0"
    for i in range(1, n):
        label = out if i == n - 1 else f"{out}x{i}"
        graph += f"[{prev}][{out}k{i}]acrossfade=d={CROSSFADE}:c1=tri:c2=tri[{label}]"
        graph += "" if i == n - 1 else ";"
        prev = label
    return graph


def watermark_position(corner: str, safe_area: SafeArea, pad: int) -> tuple[str, str]:
    """overlay x/y expressions putting the logo in `corner`, inside the safe area."""
    x = f"{safe_area.left + pad}" if corner.endswith("left") else f"W-w-{safe_area.right + pad}"
    y = f"{safe_area.top + pad}" if corner.startswith("top") else f"H-h-{safe_area.bottom + pad}"
    return x, y


def overlay_filter(src: str, ass: Path | None, watermark: WatermarkSpec | None, width: int, out: str) -> str:
    """[src] -> [out]: burned-in captions/hook title (libass) and the watermark (input 1) on top."""
    graph = f"[{src}]"
    if ass is not None:
        graph += f"subtitles=filename={escape_filter_value(str(ass))}:fontsdir={escape_filter_value(str(fonts_dir()))},"
    if watermark is None:
        return graph + f"setsar=1,format=yuv420p[{out}]"
    logo_w = _even(width * watermark.scale)
    x, y = watermark_position(watermark.corner, watermark.safe_area, round(0.02 * width))
    return (
        graph + f"setsar=1[{out}base];"
        f"[1:v]format=rgba,scale={logo_w}:-2,colorchannelmixer=aa={watermark.opacity:.3f}[{out}logo];"
        f"[{out}base][{out}logo]overlay=x={x}:y={y}:format=auto:eof_action=repeat,format=yuv420p[{out}]"
    )


def video_filter(
    plan: CropPlan,
    ass: Path | None,
    *,
    fps_first: bool = True,
    anamorphic: bool = True,
    keep_ranges: list[tuple[float, float]] | None = None,
    watermark: WatermarkSpec | None = None,
    thumbnail_at: float | None = None,
) -> str:
    """The filter graph from input 0's video to [v]: framing, the cut timeline, captions, watermark.

    With thumbnail_at, a second output [thumb] carries the frame at that time (of the output timeline).
    """
    graph = framing_filter(plan, fps_first=fps_first, anamorphic=anamorphic) + ";"
    if not fps_first:
        graph += f"[framed]fps={OUT_FPS}[framed30];"
    framed = "framed" if fps_first else "framed30"
    if keep_ranges:
        graph += timeline_filter(framed, keep_ranges, "cut") + ";"
        framed = "cut"
    final = "v" if thumbnail_at is None else "vall"
    graph += overlay_filter(framed, ass, watermark, _even(plan.out_width), final)
    if thumbnail_at is not None:
        at = max(0.0, thumbnail_at)  # the branch ends by itself a few frames later (nothing buffers for it)
        graph += f";[vall]split=2[v][vth];[vth]trim=start={at:.3f}:end={at + 0.1:.3f},setpts=PTS-STARTPTS[thumb]"
    return graph


def _source_video(source: Path | str, options: dict[str, str]) -> tuple[float, bool]:
    """(average frame rate or 0.0 when unknown, whether pixels are non-square; True when unknown)."""
    try:
        with av.open(str(source), options=options) as c:
            if not c.streams.video:
                return 0.0, True
            stream = c.streams.video[0]
            rate = float(stream.average_rate) if stream.average_rate else 0.0
            sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
            return rate, bool(sar) and sar != 1
    except (av.error.FFmpegError, OSError):
        return 0.0, True  # ffmpeg will report the real problem


def _tmp_name(out: Path, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}-", suffix=suffix, dir=out.parent)
    os.close(fd)
    return Path(name)


def render_clip(
    source: Path | str,
    start: float,
    end: float,
    plan: CropPlan,
    ass: Path | None,
    out: Path,
    *,
    settings: Settings,
    keep_ranges: list[tuple[float, float]] | None = None,
    watermark: WatermarkSpec | None = None,
    thumbnail: Path | None = None,
    thumbnail_at: float = 1.0,
) -> RenderedFile:
    """Render source[start:end) framed by `plan` with burned-in `ass` to an MP4 at `out`, in one ffmpeg run.

    `source` is a file or an http(s) URL: `-ss`/`-t` before `-i` make ffmpeg seek (range requests) and
    read only the clip's range plus the container index.
    keep_ranges (source seconds inside [start, end]) cut the clip to those spans (video trim/concat,
    audio atrim with crossfaded joins); `ass` is then on the cut timeline. `watermark` overlays a logo.
    `thumbnail` also writes a JPEG of the output frame at `thumbnail_at` from the same run.
    """
    duration = end - start
    if duration <= 0:
        raise RenderFailed(f"empty clip range {start:.3f}-{end:.3f}")
    ranges = [(max(a, start) - start, min(b, end) - start) for a, b in keep_ranges or []]
    ranges = [(a, b) for a, b in ranges if b > a]
    if keep_ranges is not None and not ranges:
        raise RenderFailed("keep_ranges leave nothing of the clip")
    if ranges:
        duration = sum(b - a for a, b in ranges)
    url_options = url_input_options(source, settings.source_request_bytes)
    fps, anamorphic = _source_video(source, url_options)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(out, ".mp4")
    thumb_tmp = None
    if thumbnail is not None:
        Path(thumbnail).parent.mkdir(parents=True, exist_ok=True)
        thumb_tmp = _tmp_name(Path(thumbnail), ".jpg")
    at = min(thumbnail_at, duration / 2) if thumb_tmp is not None else None
    graph = video_filter(
        plan, ass, fps_first=not 0 < fps <= OUT_FPS + 0.5, anamorphic=anamorphic, keep_ranges=ranges or None,
        watermark=watermark, thumbnail_at=at,
    )
    inputs = ["-ss", f"{start:.3f}", "-t", f"{end - start:.3f}",
              *(arg for name, value in url_options.items() for arg in (f"-{name}", value)), "-i", str(source)]
    if watermark is not None:
        inputs += ["-i", str(watermark.path)]
    if ranges:
        graph += ";" + audio_filter(ranges, "a")
        audio = ["-map", "[a]"]
    else:
        audio = ["-map", "0:a:0?", "-af", f"{AUDIO_FORMAT},asetpts=PTS-STARTPTS"]  # no upmix: stereo AAC costs 2x
    args = [
        "-y", *inputs,
        "-filter_complex", graph,
        "-map", "[v]", *audio,
        "-c:v", "libx264",
        "-profile:v", "high",
        "-preset", settings.x264_preset,
        "-crf", str(settings.x264_crf),
        "-pix_fmt", "yuv420p",
        "-r", str(OUT_FPS),
        "-c:a", "aac",
        "-b:a", AUDIO_BITRATE,
        "-ar", str(AUDIO_RATE),
        "-t", f"{duration:.3f}",
        "-map_metadata", "-1",
        "-movflags", "+faststart",
    ]  # fmt: skip
    if settings.ffmpeg_threads > 0:
        args += ["-threads", str(settings.ffmpeg_threads), "-filter_threads", str(settings.ffmpeg_threads)]
    args += ["-f", "mp4", str(tmp)]
    if thumb_tmp is not None:
        args += ["-map", "[thumb]", "-frames:v", "1", "-q:v", "3", "-update", "1", "-f", "image2", str(thumb_tmp)]
    try:
        run_ffmpeg(args, timeout=max(120.0, (end - start) * 20))
        if thumb_tmp is not None and thumbnail is not None:
            if thumb_tmp.stat().st_size == 0:
                raise RenderFailed(f"no frame at {at:.2f}s for the thumbnail")
            os.replace(thumb_tmp, thumbnail)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        if thumb_tmp is not None:
            thumb_tmp.unlink(missing_ok=True)
    return RenderedFile(path=str(out), width=plan.out_width, height=plan.out_height, duration=duration, platforms=[],
                        thumbnail=str(thumbnail) if thumbnail is not None else None)


def render_thumbnail(video: Path, out_jpg: Path, at: float) -> Path:
    """A JPEG of `video`'s frame at `at` seconds (at the video's own size)."""
    out_jpg = Path(out_jpg)
    out_jpg.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(out_jpg, ".jpg")
    try:
        run_ffmpeg(
            ["-y", "-ss", f"{max(0.0, at):.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "3",
             "-update", "1", "-f", "image2", str(tmp)],
            timeout=60,
        )  # fmt: skip
        if tmp.stat().st_size == 0:
            raise RenderFailed(f"no frame at {at:.2f}s for the thumbnail")
        os.replace(tmp, out_jpg)
    finally:
        tmp.unlink(missing_ok=True)
    return out_jpg
