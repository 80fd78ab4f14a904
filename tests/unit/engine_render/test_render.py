"""Rendered clips: container/codec properties, faststart, framing, captions timing and placement, fit layout."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from chalicelib.engine.errors import RenderFailed
from chalicelib.engine.reframe import plan_crop
from chalicelib.engine.render import escape_filter_value, render_clip, render_thumbnail
from chalicelib.engine.types import CropPlan

from .conftest import CLIP_END, CLIP_START, OUT_H, OUT_W, decode_frames


def top_level_boxes(path: Path) -> list[str]:
    """The MP4's top-level box types, in file order."""
    boxes: list[str] = []
    data = path.read_bytes()
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        boxes.append(kind.decode("latin-1"))
        pos += size
    return boxes


def test_output_format(captioned_mp4: Path) -> None:
    with av.open(str(captioned_mp4)) as c:
        v = c.streams.video[0]
        a = c.streams.audio[0]
        assert (v.width, v.height) == (OUT_W, OUT_H)
        assert v.codec_context.name == "h264"
        assert v.codec_context.profile == "High"
        assert v.codec_context.format.name == "yuv420p"
        assert float(v.average_rate) == pytest.approx(30.0, abs=0.01)
        assert a.codec_context.name == "aac"
        assert a.rate == 48000
        duration = c.duration / 1e6
        assert duration == pytest.approx(CLIP_END - CLIP_START, abs=0.1)
        assert float(v.duration * v.time_base) == pytest.approx(CLIP_END - CLIP_START, abs=0.1)
        assert v.frames == pytest.approx(30 * (CLIP_END - CLIP_START), abs=2)
    boxes = top_level_boxes(captioned_mp4)
    assert "moov" in boxes and "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat"), boxes


def test_no_temp_files_left(captioned_mp4: Path, plain_mp4: Path) -> None:
    leftovers = [p.name for p in captioned_mp4.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_face_stays_in_frame(captioned_mp4: Path, frames_of: Any) -> None:
    """The Haar cascade finds the astronaut in (nearly) every sampled output frame, well inside it."""
    times = [0.5 * k for k in range(1, 14)]
    frames = frames_of(captioned_mp4, times, "gray")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    found = 0
    for t in times:
        small = cv2.resize(frames[t], (OUT_W // 3, OUT_H // 3), interpolation=cv2.INTER_AREA)
        faces = cascade.detectMultiScale(small, 1.1, 5, minSize=(40, 40))
        if len(faces):
            x, y, w, h = max(faces, key=lambda b: b[2] * b[3])
            assert x > 0 and x + w < OUT_W // 3 and y > 0 and y + h < OUT_H // 3
            found += 1
    assert found >= len(times) - 1, f"face found in {found}/{len(times)} output frames"


def test_crop_path_matches_plan(plain_mp4: Path, talk_path: Path, talk_plan: CropPlan, frames_of: Any) -> None:
    """Locate each output frame inside the source frame: the crop x is the plan's and is smooth."""
    assert talk_plan.layout == "crop"
    times = [0.2 * k for k in range(1, 34)]  # instants where both 25 and 30 fps have a frame
    out = frames_of(plain_mp4, times, "gray")
    src = frames_of(talk_path, [CLIP_START + t for t in times], "gray")
    scale = talk_plan.crop_w / OUT_W
    xs = []
    for t in times:
        patch = cv2.resize(out[t], (talk_plan.crop_w, talk_plan.crop_h), interpolation=cv2.INTER_AREA)
        res = cv2.matchTemplate(src[CLIP_START + t], patch, cv2.TM_CCOEFF_NORMED)
        _, score, _, (x, _y) = cv2.minMaxLoc(res)
        assert score > 0.9, f"output frame at {t:.1f}s is not a crop of the source ({score:.2f})"
        xs.append(x)
        seg = next(s for s in talk_plan.segments if t < s.t1 or s is talk_plan.segments[-1])
        plan_x = seg.x0 + (seg.x1 - seg.x0) * (t - seg.t0) / (seg.t1 - seg.t0)
        assert abs(x - plan_x) <= 3, (t, x, plan_x)
    assert scale < 1
    steps = np.abs(np.diff(xs))
    cut = talk_plan.scene_cuts[0]
    # per 0.2 s step: no jitter anywhere, one jump only across the scene cut
    for (t0, t1), step in zip(itertools.pairwise(times), steps, strict=True):
        if not t0 <= cut <= t1:
            assert step <= 6, (t0, step)
    assert steps.max() > 100  # the jump at the cut


def test_captions_timed_to_clip_zero(captioned_mp4: Path, plain_mp4: Path, safe_area: Any, frames_of: Any) -> None:
    """Captions appear exactly while words are spoken (clip time), only inside the safe area."""
    # clip 0.80-1.50 s and 3.72-4.42 s are pauses between paragraphs; 1.8 s and 4.7 s are speech
    times = [1.1, 1.8, 4.1, 4.7]
    cap = frames_of(captioned_mp4, times, "gray")
    plain = frames_of(plain_mp4, times, "gray")
    changed = {t: np.abs(cap[t].astype(int) - plain[t].astype(int)) > 60 for t in times}
    assert changed[1.1].sum() < 50 and changed[4.1].sum() < 50
    for t in (1.8, 4.7):
        mask = changed[t]
        assert mask.sum() > 2000, f"no caption pixels at {t}s"
        ys, xs = np.nonzero(mask)
        inside = (
            (xs >= safe_area.left)
            & (xs < OUT_W - safe_area.right)
            & (ys >= safe_area.top)
            & (ys < OUT_H - safe_area.bottom)
        )
        assert inside.mean() > 0.98, f"{inside.mean():.3f} of caption pixels inside the safe area"
        assert ys.min() > OUT_H / 2  # bottom-centre placement


def test_fit_layout_without_face(noface_source: Path, render_dir: Path, settings: Any) -> None:
    w, h = OUT_W // 2, OUT_H // 2  # half size: same graph, faster test
    plan = plan_crop(noface_source, 0.5, 5.5, w, h, settings=settings)
    assert plan.layout == "fit" and plan.faces_found == 0
    out = render_dir / "fit.mp4"
    render_clip(noface_source, 0.5, 5.5, plan, None, out, settings=settings)
    frame = decode_frames(out, [2.0], "gray")[2.0].astype(np.float32)
    assert frame.shape == (h, w)
    fg_h = round(w * 720 / 1280)
    top = (h - fg_h) // 2
    energy = lambda region: float(cv2.Laplacian(region, cv2.CV_32F).var())  # noqa: E731
    bands = [frame[10 : top - 10], frame[top + fg_h + 10 : h - 10]]
    middle = frame[top + 10 : top + fg_h - 10]
    for band in bands:
        assert band.std() > 5  # a picture (the blurred copy), not black bars
        assert energy(band) * 20 < energy(middle)


def test_escaped_paths_and_other_sizes(noface_source: Path, render_dir: Path, settings: Any, safe_area: Any) -> None:
    """Captions whose path holds filtergraph specials still render (1:1 at a small size)."""
    from chalicelib.engine.captions import write_ass
    from chalicelib.engine.types import Word

    weird = render_dir / "we:ird 'dir,[x];"
    weird.mkdir()
    ass = write_ass(
        [Word("hello", 0.1, 0.9), Word("there", 1.0, 1.8)],
        "bold",
        360,
        360,
        safe_area.__class__(20, 40, 20, 20),
        weird / "c:ap's.ass",
    )
    assert ass is not None
    plan = plan_crop(noface_source, 1.0, 3.0, 360, 360, settings=settings)
    out = weird / "sq.mp4"
    render_clip(noface_source, 1.0, 3.0, plan, ass, out, settings=settings)
    with av.open(str(out)) as c:
        assert (c.streams.video[0].width, c.streams.video[0].height) == (360, 360)
    assert "\\:" in escape_filter_value("a:b")


def test_render_failure_leaves_nothing(render_dir: Path, settings: Any, talk_plan: CropPlan) -> None:
    out_dir = render_dir / "fail"
    with pytest.raises(RenderFailed) as info:
        render_clip(render_dir / "missing.mp4", 0.0, 2.0, talk_plan, None, out_dir / "x.mp4", settings=settings)
    assert info.value.code == "render_failed"
    assert "missing.mp4" in info.value.message
    assert list(out_dir.iterdir()) == []


def test_thumbnail(captioned_mp4: Path, render_dir: Path) -> None:
    jpg = render_thumbnail(captioned_mp4, render_dir / "thumb.jpg", at=1.0)
    img = cv2.imread(str(jpg))
    assert img is not None and img.shape[:2] == (OUT_H, OUT_W)
    with pytest.raises(RenderFailed):
        render_thumbnail(captioned_mp4, render_dir / "late.jpg", at=60.0)
    assert not (render_dir / "late.jpg").exists()


def _audio(path: Path, start: float, seconds: float) -> np.ndarray:
    """Mono 8 kHz float samples of `path` from `start` (seconds from the file's start)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=8000)
    chunks = []
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().ravel())
    pcm = np.concatenate(chunks)
    return pcm[int(start * 8000) : int((start + seconds) * 8000)]


def test_audio_cut_accurately(captioned_mp4: Path, talk_path: Path) -> None:
    """The clip's sound is the source's sound from CLIP_START (lag within 15 ms)."""
    clip = _audio(captioned_mp4, 0.0, 6.0)
    src = _audio(talk_path, CLIP_START - 0.25, 6.5)
    corr = np.correlate(src, clip[: len(clip) - 400], mode="valid")
    lag = int(np.argmax(corr)) / 8000 - 0.25
    assert abs(lag) <= 0.015, lag


def test_mixed_crop_and_fit_shots(render_dir: Path, noface_source: Path, settings: Any) -> None:
    """A face shot cut to a faceless shot: the first is cropped on the face, the second fitted, one file."""
    import skimage.data
    import skimage.io

    from chalicelib.engine.ffmpeg import run_ffmpeg

    png = render_dir / "astro.png"
    skimage.io.imsave(png, skimage.data.astronaut(), check_contrast=False)
    src = render_dir / "mixed.mp4"
    run_ffmpeg(
        ["-y", "-f", "lavfi", "-i", "color=c=0x336633:s=1280x720:r=25:d=3", "-loop", "1", "-i", str(png),
         "-i", str(noface_source),
         "-filter_complex",
         "[1:v]scale=440:440[a];[0:v][a]overlay=x=700:y=200:shortest=1,setsar=1[f];"
         "[2:v]trim=0:3,setpts=PTS-STARTPTS,setsar=1[n];[f][n]concat=n=2:v=1:a=0[v]",
         "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(src)]
    )  # fmt: skip
    w, h = OUT_W // 2, OUT_H // 2
    plan = plan_crop(src, 0.0, 6.0, w, h, settings=settings)
    assert plan.layout == "crop"
    assert plan.scene_cuts == [pytest.approx(3.0, abs=0.05)]
    assert {s.layout for s in plan.segments if s.t1 <= 3.01} == {"crop"}
    assert {s.layout for s in plan.segments if s.t0 >= 2.99} == {"fit"}
    out = render_dir / "mixed_out.mp4"
    render_clip(src, 0.0, 6.0, plan, None, out, settings=settings)
    with av.open(str(out)) as c:
        assert c.duration / 1e6 == pytest.approx(6.0, abs=0.1)
        assert c.streams.video[0].frames == pytest.approx(180, abs=2)
    frames = decode_frames(out, [1.5, 4.5], "gray")
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert len(cascade.detectMultiScale(frames[1.5], 1.1, 5, minSize=(40, 40))) >= 1
    fit = frames[4.5].astype(np.float32)
    fg_h = round(w * 720 / 1280)
    top = (h - fg_h) // 2
    band, middle = fit[10 : top - 10], fit[top + 10 : top + fg_h - 10]
    assert cv2.Laplacian(band, cv2.CV_32F).var() * 20 < cv2.Laplacian(middle, cv2.CV_32F).var()


def test_high_frame_rate_source(render_dir: Path, settings: Any) -> None:
    """A 60 fps source comes out at 30 fps with the right frame count (fps conversion before framing)."""
    from chalicelib.engine.ffmpeg import run_ffmpeg

    src = render_dir / "hfr.mp4"
    run_ffmpeg(["-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=60:d=3", "-c:v", "libx264", "-preset", "ultrafast",
                "-pix_fmt", "yuv420p", str(src)])  # fmt: skip
    plan = plan_crop(src, 0.5, 2.5, 360, 640, settings=settings)
    out = render_dir / "hfr_out.mp4"
    render_clip(src, 0.5, 2.5, plan, None, out, settings=settings)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert float(v.average_rate) == pytest.approx(30.0, abs=0.01)
        assert v.frames == pytest.approx(60, abs=1)
        assert not c.streams.audio  # a silent source stays silent
