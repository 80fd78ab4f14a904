"""End-to-end engine benchmark with same-run floors.

On an N-minute 16:9 talk (made by scripts/make_fixtures.py), `klipstar clip`'s engine makes
`--clips` clips for the three vertical platforms with karaoke captions. Reported:
- wall time per stage and end to end, and end to end as a fraction of the source duration;
- transcription vs. bare faster-whisper on the same audio (same model, word timestamps, VAD);
- render vs. bare ffmpeg encoding the same output durations at the same settings (static crop,
  no captions, no face tracking);
- peak memory (this process, and the largest child ffmpeg).

With --all-options every style option is on (pop captions in Source Sans Pro on a box at the top, a
hook title, a watermark, silence and filler removal); its floor encodes the same output durations.

Timings are not assertions: run it on a quiet machine. Usage:
    python bench/bench_engine.py --minutes 10 --clips 10 [--all-options]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.engine import transcribe  # noqa: E402
from chalicelib.engine.clipper import run_clipper  # noqa: E402
from chalicelib.engine.ffmpeg import ffmpeg_exe  # noqa: E402
from chalicelib.engine.style import Style  # noqa: E402
from chalicelib.engine.types import ClipOptions  # noqa: E402
from chalicelib.settings import get_settings  # noqa: E402

MEDIA = ROOT / "bench" / "media"
RESULTS = ROOT / "bench" / "results"


def make_talk(minutes: int) -> Path:
    path = MEDIA / f"talk_{minutes}min.mp4"
    if not path.is_file():
        MEDIA.mkdir(parents=True, exist_ok=True)
        script = ROOT / "scripts" / "make_fixtures.py"
        cmd = [sys.executable, str(script), "--long-minutes", str(minutes), "--out", str(path)]
        subprocess.run(cmd, check=True)
    return path


def whisper_floor(source: Path) -> float:
    """Bare faster-whisper on the same source (it decodes the audio itself), same settings as the engine."""
    from faster_whisper import WhisperModel

    settings = get_settings()
    model = WhisperModel(transcribe.resolve_model(settings.whisper_model), device="cpu",
                         compute_type=settings.whisper_compute_type,
                         cpu_threads=settings.whisper_threads or (os.cpu_count() or 1))
    started = time.perf_counter()
    segments, _ = model.transcribe(str(source), beam_size=settings.whisper_beam_size, word_timestamps=True,
                                   vad_filter=True, condition_on_previous_text=False, language="en")
    words = sum(len(s.words or []) for s in segments)
    elapsed = time.perf_counter() - started
    print(f"  floor whisper: {words} words in {elapsed:.1f} s")
    return elapsed


ALL_OPTIONS = {
    "captions": {"preset": "pop", "font": "Source Sans Pro", "position": "top", "highlight_color": "#00E1FF",
                 "background": {"color": "#000000", "opacity": 0.5}, "max_lines": 2},
    "hook_title": {"seconds": 3},
    "watermark": {"url": "", "corner": "bottom_left", "scale": 0.2, "opacity": 0.8},
    "tighten": {"remove_silences": True, "remove_filler_words": True},
}  # fmt: skip


def all_options_style(work: Path) -> Style:
    """ALL_OPTIONS with a generated 400x200 PNG logo as the watermark."""
    logo = work / "logo.png"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc2=s=400x200:d=0.1", "-frames:v", "1", str(logo)], check=True)
    data = json.loads(json.dumps(ALL_OPTIONS))
    data["watermark"]["url"] = str(logo)
    return Style.model_validate(data)


def ffmpeg_floor(source: Path, clips: list[dict], width: int, height: int) -> float:
    """Bare ffmpeg: the same output durations (from each clip's start) and size at the same x264/AAC
    settings, static centre crop."""
    settings = get_settings()
    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, clip in enumerate(clips):
            out = Path(tmp) / f"floor{i}.mp4"
            vf = f"crop=ih*{width}/{height}:ih,scale={width}:{height},fps=30"
            cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{clip['start']:.3f}",
                   "-i", str(source), "-t", f"{clip['duration_seconds']:.3f}", "-vf", vf,
                   "-c:v", "libx264", "-profile:v", "high", "-pix_fmt", "yuv420p", "-preset", settings.x264_preset,
                   "-crf", str(settings.x264_crf), "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
                   "-movflags", "+faststart", str(out)]
            started = time.perf_counter()
            subprocess.run(cmd, check=True)
            total += time.perf_counter() - started
    print(f"  floor ffmpeg: {len(clips)} renders in {total:.1f} s")
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--clips", type=int, default=10)
    parser.add_argument("--all-options", action="store_true", help="every style option on")
    parser.add_argument("--source", type=Path, default=None,
                        help="use this talk instead of making an N-minute one (e.g. tests/fixtures/talk.mp4)")
    args = parser.parse_args()

    settings = get_settings()
    source = args.source.resolve() if args.source else make_talk(args.minutes)
    options = ClipOptions(max_clips=args.clips, caption_style="karaoke").validate()
    marks: dict[str, list[float]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault(stage, [now, now])[1] = now

    with tempfile.TemporaryDirectory() as tmp:
        style = all_options_style(Path(tmp)) if args.all_options else None
        print(f"engine on {source.name} ...", flush=True)
        started = time.perf_counter()
        manifest = run_clipper(str(source), options, Path(tmp) / "clips", settings=settings, progress=progress,
                               style=style)
        end_to_end = time.perf_counter() - started
        peak_self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak_child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        floor_whisper = whisper_floor(source)
        floor_ffmpeg = ffmpeg_floor(source, manifest["clips"], 1080, 1920)

    stages = {stage: round(t[1] - t[0], 2) for stage, t in marks.items()}
    duration = float(manifest["media"]["duration"])
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''} cores={os.cpu_count()}",
        "source_seconds": round(duration, 1),
        "all_options": args.all_options,
        "clips": len(manifest["clips"]),
        "output_seconds": round(sum(c["duration_seconds"] for c in manifest["clips"]), 1),
        "stage_seconds": stages,
        "end_to_end_seconds": round(end_to_end, 2),
        "end_to_end_x_realtime": round(end_to_end / duration, 3),
        "transcribe_vs_bare_whisper": round(stages.get("transcribe", 0) / floor_whisper, 2),
        "render_vs_bare_ffmpeg": round(stages.get("render", 0) / floor_ffmpeg, 2),
        "floor_whisper_seconds": round(floor_whisper, 2),
        "floor_ffmpeg_seconds": round(floor_ffmpeg, 2),
        "peak_rss_mb_python": round(peak_self_mb),
        "peak_rss_mb_largest_child": round(peak_child_mb),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = source.stem if args.source else f"{args.minutes}min"
    out = RESULTS / f"engine_{name}{'_all' if args.all_options else ''}.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
