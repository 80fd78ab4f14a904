"""Render: one ffmpeg run per clip and output size (seek, crop path or fit, captions, H.264/AAC, faststart)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import av

from ..settings import Settings
from .errors import RenderFailed
from .ffmpeg import run_ffmpeg, url_input_options
from .fonts import fonts_dir
from .reframe import crop_expressions
from .types import CropPlan, CropSegment, RenderedFile

OUT_FPS = 30
AUDIO_RATE = 48000
AUDIO_BITRATE = "128k"
BLUR_DOWNSCALE = 8  # the fit background is blurred at 1/8 size, then upscaled


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


def video_filter(plan: CropPlan, ass: Path | None, *, fps_first: bool = True, anamorphic: bool = True) -> str:
    """The filter graph from input 0's video to the [v] output label.

    fps_first converts to 30 fps before framing (saves work on 50/60 fps sources); otherwise after it,
    so a 25 fps source is cropped and scaled 25 times a second, not 30. anamorphic sources are made
    square-pixel first, as the plan assumes (skipped for square pixels: that pass costs ~5 %).
    """
    ow, oh = _even(plan.out_width), _even(plan.out_height)
    early, late = (f",fps={OUT_FPS}", "") if fps_first else ("", f"fps={OUT_FPS},")
    square = "scale=trunc(iw*sar/2)*2:ih,setsar=1" if anamorphic else "setsar=1"
    graph = f"[0:v]setpts=PTS-STARTPTS,{square}{early}[src];"
    if plan.layout == "fit":
        graph += _fit_chain("src", ow, oh, "framed")
    else:
        if not plan.crop_w or not plan.crop_h or not plan.segments:
            raise RenderFailed("crop plan has no crop window")
        runs = _runs(plan.segments)
        if len(runs) == 1 and runs[0][0].layout == "crop":
            graph += _crop_chain("src", plan, plan.segments, ow, oh, "framed")
        else:  # shots alternate between crop and fit: trim each run (timestamps kept), frame it, concat
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
            graph += "".join(f"[c{i}]" for i in range(len(runs))) + f"concat=n={len(runs)}:v=1:a=0[framed]"
    graph += f";[framed]{late}"
    if ass is not None:
        graph += f"subtitles=filename={escape_filter_value(str(ass))}:fontsdir={escape_filter_value(str(fonts_dir()))},"
    return graph + "setsar=1,format=yuv420p[v]"


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
) -> RenderedFile:
    """Render source[start:end) framed by `plan` with burned-in `ass` captions to an MP4 at `out`.

    `source` is a file or an http(s) URL: `-ss`/`-t` before `-i` make ffmpeg seek (range requests) and
    read only the clip's range plus the container index."""
    duration = end - start
    if duration <= 0:
        raise RenderFailed(f"empty clip range {start:.3f}-{end:.3f}")
    url_options = url_input_options(source, settings.source_request_bytes)
    fps, anamorphic = _source_video(source, url_options)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(out, ".mp4")
    args = [
        "-y",
        "-ss", f"{start:.3f}",
        "-t", f"{duration:.3f}",
        *(arg for name, value in url_options.items() for arg in (f"-{name}", value)),
        "-i", str(source),
        "-filter_complex", video_filter(plan, ass, fps_first=not 0 < fps <= OUT_FPS + 0.5, anamorphic=anamorphic),
        "-map", "[v]",
        "-map", "0:a:0?",
        "-c:v", "libx264",
        "-profile:v", "high",
        "-preset", settings.x264_preset,
        "-crf", str(settings.x264_crf),
        "-pix_fmt", "yuv420p",
        "-r", str(OUT_FPS),
        "-c:a", "aac",
        "-b:a", AUDIO_BITRATE,
        "-ar", str(AUDIO_RATE),
        "-af", "aformat=channel_layouts=mono|stereo,asetpts=PTS-STARTPTS",  # no upmix: stereo AAC costs 2x
        "-t", f"{duration:.3f}",
        "-map_metadata", "-1",
        "-movflags", "+faststart",
    ]  # fmt: skip
    if settings.ffmpeg_threads > 0:
        args += ["-threads", str(settings.ffmpeg_threads), "-filter_threads", str(settings.ffmpeg_threads)]
    args += ["-f", "mp4", str(tmp)]
    try:
        run_ffmpeg(args, timeout=max(120.0, duration * 20))
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return RenderedFile(path=str(out), width=plan.out_width, height=plan.out_height, duration=duration, platforms=[])


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
