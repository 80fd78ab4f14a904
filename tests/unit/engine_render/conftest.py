"""Shared renders for the engine_render tests: made once per session, on the committed talk fixture."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chalicelib.engine.captions import write_ass
from chalicelib.engine.ffmpeg import ffmpeg_exe
from chalicelib.engine.platforms import PLATFORMS, merged_safe_area
from chalicelib.engine.reframe import plan_crop
from chalicelib.engine.render import render_clip
from chalicelib.engine.types import CropPlan, Word
from chalicelib.settings import Settings, load_settings

# A 7 s window of the talk around its scene cut (56.08 s): speech, a 0.7 s pause, speech, cut, speech.
CLIP_START, CLIP_END = 52.0, 59.0
OUT_W, OUT_H = 1080, 1920
VERTICAL = ("youtube_shorts", "tiktok", "reels")


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(environ={})


@pytest.fixture(scope="session")
def safe_area() -> Any:
    return merged_safe_area([PLATFORMS[n] for n in VERTICAL])


@pytest.fixture(scope="session")
def script_words(talk_script: dict[str, Any]) -> list[Word]:
    """Word timings spread over each scripted paragraph's known span (proportional to word length)."""
    words: list[Word] = []
    for para in talk_script["paragraphs"]:
        tokens = para["text"].split()
        weights = np.array([len(t) + 1 for t in tokens], dtype=float)
        edges = para["start"] + np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * (
            para["end"] - para["start"]
        )
        for tok, a, b in zip(tokens, edges[:-1], edges[1:], strict=True):
            words.append(Word(tok, float(a), float(b) - 0.04))
    return words


@pytest.fixture(scope="session")
def clip_words(script_words: list[Word]) -> list[Word]:
    """The clip's words in clip-relative seconds."""
    return [
        Word(w.text, w.start - CLIP_START, w.end - CLIP_START)
        for w in script_words
        if w.start >= CLIP_START and w.end <= CLIP_END
    ]


@pytest.fixture(scope="session")
def render_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("render")


@pytest.fixture(scope="session")
def talk_plan(talk_path: Path, settings: Settings) -> CropPlan:
    return plan_crop(talk_path, CLIP_START, CLIP_END, OUT_W, OUT_H, settings=settings)


@pytest.fixture(scope="session")
def karaoke_ass(clip_words: list[Word], safe_area: Any, render_dir: Path) -> Path:
    path = write_ass(clip_words, "karaoke", OUT_W, OUT_H, safe_area, render_dir / "clip.ass")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def captioned_mp4(
    talk_path: Path, talk_plan: CropPlan, karaoke_ass: Path, render_dir: Path, settings: Settings
) -> Path:
    out = render_dir / "captioned.mp4"
    render_clip(talk_path, CLIP_START, CLIP_END, talk_plan, karaoke_ass, out, settings=settings)
    return out


@pytest.fixture(scope="session")
def plain_mp4(talk_path: Path, talk_plan: CropPlan, render_dir: Path, settings: Settings) -> Path:
    out = render_dir / "plain.mp4"
    render_clip(talk_path, CLIP_START, CLIP_END, talk_plan, None, out, settings=settings)
    return out


@pytest.fixture(scope="session")
def noface_source(render_dir: Path) -> Path:
    """6 s of testsrc2 (sharp synthetic pattern, no face) with a tone."""
    path = render_dir / "noface.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=6", "-f", "lavfi", "-i", "sine=f=300:d=6",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)],
        check=True,
    )  # fmt: skip
    return path


def decode_frames(path: Path, times: list[float], fmt: str = "rgb24") -> dict[float, np.ndarray]:
    """The frames of `path` nearest to each of `times` (seconds from the file's start)."""
    wanted = sorted(times)
    out: dict[float, np.ndarray] = {}
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        half = 0.5 / float(stream.average_rate or 25)
        for frame in c.decode(stream):
            t = float(frame.time or 0.0)
            for w in wanted:
                if w not in out and abs(t - w) <= half + 1e-6:
                    out[w] = frame.to_ndarray(format=fmt)
            if len(out) == len(wanted):
                break
    return out


@pytest.fixture(scope="session")
def frames_of() -> Callable[..., dict[float, np.ndarray]]:
    return decode_frames
