"""Render-stage benchmark: render_clip (crop path + karaoke captions) vs. a bare-ffmpeg floor, same run.

For N clips of a talk, each clip is rendered at 1080x1920 twice, interleaved so both see the same machine
load: (a) the engine (plan_crop, write_ass, render_clip) and (b) the floor: bare ffmpeg encoding the same
span at the same x264/AAC settings with a static centre crop and no captions. Prints per-clip times and
the ratios render_clip/floor and (reframe + render)/floor, in wall time and in CPU time
(CPU time is the steadier figure on a shared machine). Timings are not assertions. Usage:

    python bench/bench_render.py                       # 3 x 8 s clips of tests/fixtures/talk.mp4
    python bench/bench_render.py --source talk.mp4 --clips 3 --seconds 8
    python bench/bench_render.py --source tests/fixtures/conversation.mp4 --layout auto   # two people

With --layout the reframe step is the speaker-aware one (layouts.frame_clip: face tracks, mouth
activity, speaker labels, keyframes), as `klipstar clip` runs it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.engine.captions import write_ass  # noqa: E402
from chalicelib.engine.ffmpeg import ffmpeg_exe  # noqa: E402
from chalicelib.engine.layouts import frame_clip  # noqa: E402
from chalicelib.engine.platforms import PLATFORMS, merged_safe_area  # noqa: E402
from chalicelib.engine.probe import probe  # noqa: E402
from chalicelib.engine.reframe import plan_crop  # noqa: E402
from chalicelib.engine.render import render_clip  # noqa: E402
from chalicelib.engine.types import Word  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402

WIDTH, HEIGHT = 1080, 1920


def floor_cmd(source: Path, start: float, duration: float, out: Path) -> list[str]:
    """Bare ffmpeg at the engine's settings: static centre crop, no captions, no face tracking."""
    s = get_settings()
    vf = f"crop=ih*{WIDTH}/{HEIGHT}:ih,scale={WIDTH}:{HEIGHT},fps=30"
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{start:.3f}",
           "-t", f"{duration:.3f}", "-i", str(source), "-vf", vf, "-c:v", "libx264", "-profile:v", "high",
           "-pix_fmt", "yuv420p", "-preset", s.x264_preset, "-crf", str(s.x264_crf), "-c:a", "aac",
           "-b:a", "128k", "-ar", "48000", "-movflags", "+faststart"]  # fmt: skip
    if s.ffmpeg_threads > 0:
        cmd += ["-threads", str(s.ffmpeg_threads)]
    return [*cmd, str(out)]


def cpu_seconds() -> float:
    """User + system CPU of this process (PyAV decode, OpenCV) and its finished children (ffmpeg)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def fake_words(duration: float) -> list[Word]:
    """A word every 0.4 s (a dense caption load, like fast speech)."""
    return [Word(f"word{i}", i * 0.4, i * 0.4 + 0.35) for i in range(int(duration / 0.4))]


def script_words(source: Path, start: float, end: float) -> list[Word] | None:
    """The conversation fixture's words (clip seconds, spread over each scripted turn), if it has a script."""
    script = source.with_name(f"{source.stem}_script.json")
    if not script.exists() or "turns" not in (data := json.loads(script.read_text())):
        return None
    words: list[Word] = []
    for turn in data["turns"]:
        tokens = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(tokens)
        for k, tok in enumerate(tokens):
            a = turn["start"] + k * step
            if start <= a and a + step <= end:
                words.append(Word(tok, a - start, a + step - 0.04 - start))
    return words


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT / "tests" / "fixtures" / "talk.mp4")
    parser.add_argument("--clips", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--layout", default=None, help="auto, focus, split or fit: speaker-aware framing")
    args = parser.parse_args()

    settings = get_settings()
    info = probe(args.source)
    span = info.duration - args.seconds - 1.0
    starts = [0.5 + span * (i + 0.5) / args.clips for i in range(args.clips)]
    safe = merged_safe_area([PLATFORMS[n] for n in ("youtube_shorts", "tiktok", "reels")])
    totals = {"plan": 0.0, "render": 0.0, "floor": 0.0}
    cpus = dict(totals)
    print(f"source {args.source.name}: {info.width}x{info.height} {info.duration:.1f}s; "
          f"{args.clips} clips x {args.seconds:g}s -> {WIDTH}x{HEIGHT} "
          f"({settings.x264_preset}, crf {settings.x264_crf}, layout {args.layout or 'reframe'})")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for i, start in enumerate(starts):
            end = start + args.seconds
            t0, c0 = time.perf_counter(), cpu_seconds()
            subprocess.run(floor_cmd(args.source, start, args.seconds, d / f"floor{i}.mp4"), check=True)
            t1, c1 = time.perf_counter(), cpu_seconds()
            words = script_words(args.source, start, end) or fake_words(args.seconds)
            if args.layout:
                plan = frame_clip(args.source, start, end, WIDTH, HEIGHT, words, args.layout, settings=settings).plan
            else:
                plan = plan_crop(args.source, start, end, WIDTH, HEIGHT, settings=settings)
            ass = write_ass(words, "karaoke", WIDTH, HEIGHT, safe, d / f"c{i}.ass")
            t2, c2 = time.perf_counter(), cpu_seconds()
            render_clip(args.source, start, end, plan, ass, d / f"clip{i}.mp4", settings=settings)
            t3, c3 = time.perf_counter(), cpu_seconds()
            for key, wall, cpu in (
                ("floor", t1 - t0, c1 - c0),
                ("plan", t2 - t1, c2 - c1),
                ("render", t3 - t2, c3 - c2),
            ):
                totals[key] += wall
                cpus[key] += cpu
            kinds = ",".join(sorted({s.layout for s in plan.segments})) or plan.layout
            print(f"  clip {i} @ {start:6.1f}s [{kinds}, {len(plan.segments)} segments]  wall/cpu s: "
                  f"floor {t1 - t0:5.2f}/{c1 - c0:5.2f}  reframe {t2 - t1:5.2f}/{c2 - c1:5.2f}  "
                  f"render_clip {t3 - t2:5.2f}/{c3 - c2:5.2f}")  # fmt: skip
    for label, t in (("wall", totals), ("cpu ", cpus)):
        print(f"{label}: render_clip / floor = {t['render'] / t['floor']:.2f}   "
              f"(reframe + render_clip) / floor = {(t['plan'] + t['render']) / t['floor']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
