"""Crop planning: scene cuts, face tracking, smoothness, aspects, fit fallback, rotation, expressions."""

from __future__ import annotations

import itertools
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import skimage.color
import skimage.data
import skimage.io

from chalicelib.engine.ffmpeg import ffmpeg_exe
from chalicelib.engine.reframe import (
    _Analysis,
    _luma_small,
    _rotate,
    crop_expressions,
    crop_size,
    plan_crop,
    plan_from_analysis,
)
from chalicelib.engine.types import CropPlan

from .conftest import CLIP_END, CLIP_START, OUT_H, OUT_W


def plan_x(plan: CropPlan, t: float, axis: str = "x") -> float:
    for s in plan.segments:
        if t < s.t1 or s is plan.segments[-1]:
            a, b = (s.x0, s.x1) if axis == "x" else (s.y0, s.y1)
            return a + (b - a) * (min(t, s.t1) - s.t0) / (s.t1 - s.t0)
    raise AssertionError("no segments")


def eval_expr(expr: str, t: float) -> float:
    """Evaluate the ffmpeg if/lt expression with Python (same semantics for this subset)."""
    assert re.fullmatch(r"[0-9t.+\-*/(),iflt]+", expr), expr
    py = expr.replace("if(", "_if(").replace("lt(", "_lt(")
    return float(eval(py, {"_if": lambda c, a, b: a if c else b, "_lt": lambda a, b: a < b, "t": t}))


@pytest.mark.parametrize(
    ("size", "expected"),
    [((1080, 1920), (404, 720)), ((1080, 1080), (720, 720)), ((1080, 1350), (576, 720)), ((1920, 1080), (1280, 720))],
)
def test_crop_size(size: tuple[int, int], expected: tuple[int, int]) -> None:
    assert crop_size(1280, 720, *size) == expected
    assert crop_size(720, 1280, 1920, 1080) == (720, 404)


def test_talk_plan(talk_plan: CropPlan, face_at: Callable[[float], tuple[float, ...]]) -> None:
    assert talk_plan.layout == "crop"
    assert (talk_plan.crop_w, talk_plan.crop_h) == (404, 720)
    assert (talk_plan.source_width, talk_plan.source_height) == (1280, 720)
    assert len(talk_plan.scene_cuts) == 1
    assert talk_plan.scene_cuts[0] == pytest.approx(56.08 - CLIP_START, abs=0.05)
    assert talk_plan.faces_found >= 18
    segs = talk_plan.segments
    assert segs[0].t0 == 0 and segs[-1].t1 == pytest.approx(CLIP_END - CLIP_START)
    for a, b in itertools.pairwise(segs):
        assert a.t1 == b.t0
    # the face box stays inside the crop window all along (checked every frame)
    for k in range(int((CLIP_END - CLIP_START) * 30)):
        t = k / 30
        fx, _fy, fw, _fh = face_at(CLIP_START + t)
        x = plan_x(talk_plan, t)
        assert x >= 0 and x + talk_plan.crop_w <= 1280
        assert x + 10 <= fx and fx + fw <= x + talk_plan.crop_w - 10, (t, x, fx)


def smooth_check(plan: CropPlan, fps: float = 30.0, max_step: float = 6.0) -> float:
    """Largest per-frame move of the crop window away from scene cuts; returns the largest move at a cut."""
    duration = plan.segments[-1].t1
    cut_moves = [0.0]
    prev = plan_x(plan, 0.0)
    for k in range(1, int(duration * fps)):
        t = k / fps
        x = plan_x(plan, t)
        if any(t - 1 / fps < c <= t + 1e-9 for c in plan.scene_cuts):
            cut_moves.append(abs(x - prev))
        else:
            assert abs(x - prev) <= max_step, (t, prev, x)
        prev = x
    return max(cut_moves)


def test_talk_plan_is_smooth(talk_plan: CropPlan) -> None:
    assert smooth_check(talk_plan) > 200  # the only big move is the jump at the cut


@pytest.fixture(scope="module")
def moving_face(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7 s, the astronaut sweeping right at 110 px/s over a plain background, cut at 4.5 s."""
    d = tmp_path_factory.mktemp("moving")
    png = d / "astro.png"
    skimage.io.imsave(png, skimage.data.astronaut(), check_contrast=False)
    out = d / "moving.mp4"
    fc = (
        "[1:v]scale=440:440[a];[0:v]drawbox=enable='gte(t,4.5)':x=0:y=0:w=iw:h=ih:color=navy:t=fill[bg];"
        "[bg][a]overlay=x='if(lt(t,4.5),40+110*t,780)':y=200:shortest=1[v]"
    )
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "color=c=0x336633:s=1280x720:r=30:d=7", "-loop", "1", "-i", str(png),
         "-filter_complex", fc, "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
         str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_tracks_moving_face(moving_face: Path, settings: Any) -> None:
    plan = plan_crop(moving_face, 0.0, 7.0, OUT_W, OUT_H, settings=settings)
    assert plan.layout == "crop"
    assert plan.scene_cuts == [pytest.approx(4.5, abs=0.04)]
    assert plan_x(plan, 4.3) - plan_x(plan, 0.5) > 300  # the camera followed the face
    smooth_check(plan, max_step=8.0)
    assert len(plan.segments) <= 12  # near-collinear pieces merged
    photo_face = (138 * 440 / 400, 52 * 440 / 400, 75 * 440 / 400)  # face box inside the 440 px photo
    for k in range(1, 35):
        t = k / 5
        left = (40 + 110 * t if t < 4.5 else 780) + photo_face[0]
        x = plan_x(plan, t)
        assert x <= left and left + photo_face[2] <= x + plan.crop_w, (t, x, left)


def test_dead_zone_ignores_small_motion() -> None:
    rng = np.random.default_rng(7)
    times = [k / 3 for k in range(30)]
    faces = [(640 + float(rng.normal(0, 8)), 300.0, 80.0) for _ in times]
    faces[5] = (1100.0, 300.0, 80.0)  # a one-off false detection
    faces[12] = None
    an = _Analysis(width=1280, height=720, duration=10.0, times=times, faces=faces, cuts=[])
    plan = plan_from_analysis(an, OUT_W, OUT_H, 3.0)
    xs = [plan_x(plan, t / 30) for t in range(300)]
    assert max(xs) - min(xs) < 6
    assert abs(np.mean(xs) + plan.crop_w / 2 - 640) < 30
    assert len(plan.segments) <= 2


def test_other_aspects(talk_path: Path, settings: Any) -> None:
    square = plan_crop(talk_path, 20.0, 24.0, 1080, 1080, settings=settings)
    assert square.layout == "crop" and (square.crop_w, square.crop_h) == (720, 720)
    feed = plan_crop(talk_path, 20.0, 24.0, 1080, 1350, settings=settings)
    assert (feed.crop_w, feed.crop_h) == (576, 720)
    wide = plan_crop(talk_path, 20.0, 24.0, 1920, 1080, settings=settings)
    assert (wide.crop_w, wide.crop_h) == (1280, 720)
    assert all(s.x0 == s.x1 == 0 and s.y0 == s.y1 == 0 for s in wide.segments)


def test_fit_when_no_face(noface_source: Path, settings: Any) -> None:
    plan = plan_crop(noface_source, 0.0, 4.0, OUT_W, OUT_H, settings=settings)
    assert plan.layout == "fit" and plan.faces_found == 0 and plan.segments == []
    assert CropPlan.from_dict(plan.to_dict()) == plan


def test_expression_matches_segments(talk_plan: CropPlan) -> None:
    x_expr, y_expr = crop_expressions(talk_plan)
    assert len(x_expr) < 1500
    for k in range(0, 210, 3):
        t = k / 30
        assert eval_expr(x_expr, t) == pytest.approx(plan_x(talk_plan, t), abs=0.2)
        assert eval_expr(y_expr, t) == pytest.approx(0.0)


def test_rotation_matches_ffmpeg(moving_face: Path, tmp_path: Path) -> None:
    """Stored frames of a file with a display matrix are turned the way ffmpeg's autorotate turns them."""
    rotated = tmp_path / "rot.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-display_rotation", "90",
         "-i", str(moving_face), "-c", "copy", str(rotated)],
        check=True,
    )  # fmt: skip
    with av.open(str(rotated)) as c:
        frame = next(c.decode(video=0))
        stored = frame.to_ndarray(format="gray")
        rotation = int(frame.rotation)
    raw = subprocess.run(
        [ffmpeg_exe(), "-loglevel", "error", "-i", str(rotated), "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    shown = np.frombuffer(raw, np.uint8).reshape(1280, 720)
    assert np.array_equal(_rotate(stored, rotation % 360), shown)


@pytest.mark.parametrize("kind", ["anamorphic", "mpegts"])
def test_sar_and_start_time_handled(moving_face: Path, tmp_path: Path, settings: Any, kind: str) -> None:
    """A 960x720 SAR 4:3 copy, and an MPEG-TS copy (container start time 1.4 s), plan like the original."""
    if kind == "anamorphic":
        out = tmp_path / "ana.mp4"
        args = ["-vf", "scale=960:720,setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast"]
    else:
        out = tmp_path / "copy.ts"
        args = ["-c:v", "copy", "-f", "mpegts"]
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(moving_face), *args, str(out)],
        check=True,
    )
    ref = plan_crop(moving_face, 1.0, 6.0, OUT_W, OUT_H, settings=settings)
    got = plan_crop(out, 1.0, 6.0, OUT_W, OUT_H, settings=settings)
    assert (got.source_width, got.source_height, got.crop_w) == (1280, 720, ref.crop_w)
    assert got.scene_cuts == pytest.approx(ref.scene_cuts, abs=0.05)
    for k in range(50):
        t = k / 10
        assert plan_x(got, t) == pytest.approx(plan_x(ref, t), abs=25), t


@pytest.mark.parametrize(("src", "dst"), [((1280, 720), (480, 270)), ((1920, 1080), (480, 270)),
                                          ((854, 480), (480, 270)), ((1278, 718), (480, 268))])
def test_analysis_downscale_is_as_smooth_as_an_area_average(src: tuple[int, int], dst: tuple[int, int]) -> None:
    import cv2

    photo = skimage.color.rgb2gray(skimage.data.astronaut())  # a real photo, 512x512, 0..1
    luma = (cv2.resize(photo, src, interpolation=cv2.INTER_CUBIC) * 255).clip(0, 255).astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(luma, format="gray")
    small = _luma_small(frame, dst)
    reference = cv2.resize(luma, dst, interpolation=cv2.INTER_AREA)
    assert small.shape == (dst[1], dst[0]) and small.dtype == np.uint8
    assert float(np.abs(small.astype(np.int16) - reference).mean()) < 2.0  # grey levels out of 255
