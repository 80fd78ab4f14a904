"""Reframe: plan a smooth crop path that keeps the speaker's face in the target aspect.

Frames are decoded once with PyAV from the clip's start; every frame feeds a small luma thumbnail to
the scene-cut detector (histogram + pixel distance) and a few frames per second (plus the first
frame after every cut) are downscaled to 480 px for the Haar face detector (tracked in a window
around the last face, whole frame as fallback). Per shot the face centre is median-filtered,
followed by a dead-zone "lazy camera", eased with a Gaussian and simplified to a few linear
segments; the camera jumps only at scene cuts. Shots without a face in most samples are marked
"fit" (whole frame over a blurred copy); a clip with no face at all is a "fit" plan. The path is
an ffmpeg crop expression in `t` (see `crop_expressions`): no Python frame loop runs at render.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

from ..settings import Settings
from .errors import CorruptMedia, NoVideoStream
from .ffmpeg import is_url, url_input_options
from .tracks import FULL_SCAN_SECONDS, FaceTrack, Tracker
from .types import CropPlan, CropSegment

ANALYSIS_WIDTH = 480
_Y8_FORMATS = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"})
CUT_MIN_SCORE = 0.30  # histogram total variation (0..1) or mean abs diff / 64
CUT_RATIO = 3.0  # ... and this many times the recent median score
MIN_SHOT_SECONDS = 0.5
FACE_SHOT_FRACTION = 0.5  # a shot is "on face" when at least this share of its samples found one
DEAD_ZONE = 0.08  # fraction of the crop width/height the face may drift before the camera follows
SMOOTH_SECONDS = 0.35  # Gaussian sigma of the eased path
FACE_Y_ANCHOR = 0.4  # when cropping vertically, place the face centre this far down the window
DISCOVERY_SCALE = 1.2  # coarser pyramid for the periodic whole-frame search for people coming into view


@dataclass
class _Analysis:
    width: int  # display size of the source
    height: int
    duration: float  # analysed clip length (seconds)
    times: list[float] = field(default_factory=list)  # face-sample times (clip seconds)
    faces: list[tuple[float, float, float] | None] = field(default_factory=list)  # (cx, cy, size) px
    cuts: list[float] = field(default_factory=list)
    tracks: list[FaceTrack] = field(default_factory=list)  # every face on screen, linked across samples
    mouth_times: list[float] = field(default_factory=list)  # mouth-activity measurement times
    mouth: list[dict[int, float]] = field(default_factory=list)  # track id -> activity at each time


_thread_cascades = threading.local()


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    """This thread's cascades: a CascadeClassifier is not safe to share between threads."""
    cached = getattr(_thread_cascades, "pair", None)
    if cached is not None:
        return cached
    _thread_cascades.pair = _load_cascades()
    return _thread_cascades.pair


def _load_cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    base = Path(cv2.data.haarcascades)
    frontal = cv2.CascadeClassifier(str(base / "haarcascade_frontalface_default.xml"))
    profile = cv2.CascadeClassifier(str(base / "haarcascade_profileface.xml"))
    if frontal.empty():
        raise RuntimeError("OpenCV Haar cascades missing (opencv-python-headless 4.x is required)")
    return frontal, profile


def _detect(cascade: cv2.CascadeClassifier, img: np.ndarray, scale: float, lo: int, hi: int) -> list:
    if min(img.shape) < lo:
        return []
    return list(cascade.detectMultiScale(img, scaleFactor=scale, minNeighbors=5, minSize=(lo, lo), maxSize=(hi, hi)))


def detect_face(gray: np.ndarray, near: tuple[float, float, float] | None = None) -> tuple[float, float, float] | None:
    """Largest face in a grey image as (cx, cy, size) in that image's pixels, or None.

    With `near` (the face of the previous sample) the frontal cascade first searches a window around it
    at sizes close to it (several times cheaper than the whole frame), and if the whole frame has no
    frontal face either, the profile cascade (both directions) looks near it: a speaker turning aside.
    """
    frontal, profile = _cascades()
    h, w = gray.shape
    roi, x0, y0, lo_near, hi_near = gray, 0, 0, 24, min(h, w)
    if near is not None:
        cx, cy, size = near
        half = int(1.6 * size)
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        roi = gray[y0 : int(cy + half), x0 : int(cx + half)]
        lo_near, hi_near = max(24, int(0.7 * size)), int(1.5 * size) + 2
        boxes = _detect(frontal, roi, 1.1, lo_near, hi_near)
        if boxes:
            return _largest(boxes, x0, y0)
    boxes = _detect(frontal, gray, 1.1, max(24, int(min(h, w) * 0.06)), min(h, w))
    if boxes:
        return _largest(boxes, 0, 0)
    if near is not None and not profile.empty():
        boxes = _detect(profile, roi, 1.15, lo_near, hi_near)
        if not boxes:
            rw = roi.shape[1]
            flipped = _detect(profile, cv2.flip(roi, 1), 1.15, lo_near, hi_near)
            boxes = [(rw - x - bw, y, bw, bh) for (x, y, bw, bh) in flipped]
        if boxes:
            return _largest(boxes, x0, y0)
    return None


def detect_faces(
    gray: np.ndarray, nears: list[tuple[float, float, float]] | None, scale: float = 1.1
) -> list[tuple[float, float, float]]:
    """Every frontal face as (cx, cy, size): in the whole frame (nears None; pyramid step `scale`) or in a
    window around each of `nears` at sizes close to it (the tracked people; cheaper than the whole frame)."""
    frontal, _profile = _cascades()
    h, w = gray.shape
    if nears is None:
        boxes = _detect(frontal, gray, scale, max(24, int(min(h, w) * 0.06)), min(h, w))
        return [_box(b, 0, 0) for b in boxes]
    found: list[tuple[float, float, float]] = []
    for cx, cy, size in nears:
        half = int(1.6 * size)
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        roi = gray[y0 : int(cy + half), x0 : int(cx + half)]
        boxes = _detect(frontal, roi, 1.1, max(24, int(0.7 * size)), int(1.5 * size) + 2)
        if boxes:
            found.append(_largest(boxes, x0, y0))
    return found


def _box(b: np.ndarray, dx: int, dy: int) -> tuple[float, float, float]:
    x, y, bw, bh = (int(v) for v in b)
    return (float(dx + x + bw / 2), float(dy + y + bh / 2), float(max(bw, bh)))


def _largest(boxes: list, dx: int, dy: int) -> tuple[float, float, float]:
    return _box(max(boxes, key=lambda b: int(b[2]) * int(b[3])), dx, dy)


def _luma_plane(frame: av.VideoFrame) -> np.ndarray | None:
    """The decoded 8-bit luma plane as a view (no copy), or None for formats without one."""
    if frame.format.name not in _Y8_FORMATS:
        return None
    plane = frame.planes[0]
    return np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]


def _luma_small(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame's luma resized to `size` with OpenCV (cheaper than a swscale reformat).

    An integer-factor area average first (OpenCV's fast path), then bilinear for the rest: as smooth as
    INTER_AREA at an odd ratio (1280 -> 480) and about ten times cheaper.
    """
    luma = _luma_plane(frame)
    if luma is None:
        return frame.reformat(width=size[0], height=size[1], format="gray").to_ndarray()
    k = min(luma.shape[1] // size[0], luma.shape[0] // size[1])
    if k < 2:
        return cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    luma = cv2.resize(luma, (luma.shape[1] // k, luma.shape[0] // k), interpolation=cv2.INTER_AREA)
    return luma if (luma.shape[1], luma.shape[0]) == size else cv2.resize(luma, size, interpolation=cv2.INTER_LINEAR)


def _luma_thumb(frame: av.VideoFrame) -> np.ndarray:
    """A ~160 px wide grey thumbnail: the decoded luma plane decimated in place (no colour conversion)."""
    luma = _luma_plane(frame)
    if luma is not None:
        step = max(1, luma.shape[1] // 160)
        return luma[::step, ::step]
    return frame.reformat(width=160, height=max(2, 160 * frame.height // frame.width), format="gray").to_ndarray()


def _rotate(img: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored frame into display orientation (rotation = degrees counter-clockwise)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def _analyse(
    video: Path | str, start: float, end: float, samples_per_second: float, options: dict[str, str] | None = None
) -> _Analysis:
    """Decode [start, end) once: scene cuts on every frame, faces on sampled frames."""
    try:
        container = av.open(str(video), options=options or {})
    except av.error.FFmpegError as exc:
        raise CorruptMedia(f"cannot open video for reframing: {exc}") from None
    with container:
        if not container.streams.video:
            raise NoVideoStream("source has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        cc = stream.codec_context
        # no deblocking: about a quarter less decode work, and cuts and faces are found on downscaled luma
        cc.options = {**cc.options, "skip_loop_filter": "all"}
        rotation = 0
        sw, sh = cc.width, cc.height
        duration = max(0.0, end - start)
        result: _Analysis | None = None
        step = 1.0 / max(0.1, samples_per_second)
        next_sample = 0.0
        prev_hist: np.ndarray | None = None
        prev_thumb: np.ndarray | None = None
        recent: list[float] = []
        last_cut = -1e9
        last_face: tuple[float, float, float] | None = None
        misses = 0
        analysis_size = (ANALYSIS_WIDTH, 2)
        tracker = Tracker()
        # ffmpeg's -ss and the transcript count from the container's start time; frame.time is absolute
        origin = (container.start_time or 0) / 1_000_000
        try:
            for frame in _frames_from(container, stream, start + origin):
                if frame.time is None:
                    continue
                rel = frame.time - origin - start
                if rel < -1e-3:
                    continue
                if rel >= duration:
                    break
                if result is None:
                    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                    sar = getattr(stream, "sample_aspect_ratio", None) or cc.sample_aspect_ratio
                    if sar and sar > 0 and sar != 1:  # anamorphic: ffmpeg renders it de-squeezed
                        sw = max(2, round(sw * float(sar) / 2) * 2)
                    dw, dh = (sh, sw) if rotation in (90, 270) else (sw, sh)
                    result = _Analysis(width=dw, height=dh, duration=duration)
                    analysis_size = (ANALYSIS_WIDTH, max(2, round(ANALYSIS_WIDTH * sh / sw / 2) * 2))
                    aw, ah = (analysis_size[1], analysis_size[0]) if rotation in (90, 270) else analysis_size
                    tracker.kx, tracker.ky = dw / aw, dh / ah
                thumb = _luma_thumb(frame)  # orientation does not matter for cut detection
                hist = np.bincount((thumb >> 3).ravel(), minlength=32).astype(np.float32) / thumb.size
                is_cut = False
                if prev_hist is not None and prev_thumb is not None:
                    tv = 0.5 * float(np.abs(hist - prev_hist).sum())
                    mad = float(np.abs(thumb.astype(np.int16) - prev_thumb).mean()) / 64.0
                    score = max(tv, mad)
                    base = float(np.median(recent)) if recent else 0.0
                    if score > CUT_MIN_SCORE and score > CUT_RATIO * base and rel - last_cut >= MIN_SHOT_SECONDS:
                        is_cut = True
                        last_cut = rel
                        result.cuts.append(round(rel, 3))
                    recent.append(score)
                    if len(recent) > 30:
                        recent.pop(0)
                prev_hist, prev_thumb = hist, thumb.astype(np.int16)
                if is_cut:
                    tracker.cut()
                gray = None
                if rel + 1e-3 >= next_sample or is_cut:
                    gray = _rotate(_luma_small(frame, analysis_size), rotation)
                    face = _sample_faces(tracker, gray, rel, None if is_cut else last_face)
                    last_face = face
                    kx, ky = result.width / gray.shape[1], result.height / gray.shape[0]
                    result.times.append(rel)
                    result.faces.append(None if face is None else (face[0] * kx, face[1] * ky, face[2] * kx))
                    misses = 0 if face is not None else misses + 1
                    # no face for a while: sample once a second until one shows up (or a cut comes)
                    gap = step if misses < 3 else max(step, 1.0)
                    next_sample = (math.floor(rel / gap + 1e-6) + 1) * gap
                if tracker.wants_mouth(rel):
                    if gray is None:
                        gray = _rotate(_luma_small(frame, analysis_size), rotation)
                    tracker.measure_mouths(rel, gray)
        except av.error.FFmpegError as exc:
            raise CorruptMedia(f"video decode failed while reframing: {exc}") from None
    if result is None:
        raise CorruptMedia(f"no video frames between {start:.2f}s and {end:.2f}s")
    result.tracks, result.mouth_times, result.mouth = tracker.tracks, tracker.mouth_times, tracker.mouth
    return result


def _sample_faces(
    tracker: Tracker, gray: np.ndarray, t: float, near: tuple[float, float, float] | None
) -> tuple[float, float, float] | None:
    """The main face of this sample (as `detect_face` finds it) and every face into the tracker.

    The whole frame is searched when there is no face to follow (the main detection then is its
    largest face: one search serves both) and every FULL_SCAN_SECONDS for people coming into view;
    otherwise each tracked person is looked for in a window around where they were."""
    full = near is None or t - tracker.last_full_scan >= FULL_SCAN_SECONDS
    found = detect_faces(gray, None, 1.1 if near is None else DISCOVERY_SCALE) if full else []
    if full:
        tracker.last_full_scan = t
    largest = max(found, key=lambda b: b[2]) if found else None
    face = largest if near is None else detect_face(gray, near)
    if not full:
        others = [
            b for _tid, b in tracker.active_boxes()
            if face is None
            or math.hypot(b[0] - face[0], b[1] - face[1]) > 0.6 * b[2]
            or max(b[2], face[2]) > 1.6 * min(b[2], face[2])
        ]
        found = detect_faces(gray, others) if others else []
    if face is not None:
        found.append(face)
    tracker.update(t, gray, found)
    return face


def _frames_from(container: av.container.InputContainer, stream: av.VideoStream, t: float) -> Iterator[av.VideoFrame]:
    """Decoded frames starting at or before absolute time `t` (seeks; steps further back when a
    container's seek overshoots, as byte-seeking MPEG-TS can)."""
    if t <= 0 or stream.time_base is None:
        yield from container.decode(stream)
        return
    for back in (0.0, 5.0, 30.0, math.inf):
        target = max(0.0, t - back)
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
        frames = container.decode(stream)
        first = next(frames, None)
        if first is None:
            if target == 0.0:
                return
            continue
        if first.time is None or first.time <= t + 1e-3 or target == 0.0:
            yield first
            yield from frames
            return


def crop_size(src_w: int, src_h: int, out_w: int, out_h: int) -> tuple[int, int]:
    """Largest even-sized window of the output aspect that fits inside the source."""
    target = out_w / out_h
    if src_w / src_h > target:
        h = src_h
        w = min(src_w, round(h * target))
    else:
        w = src_w
        h = min(src_h, round(w / target))
    return max(2, w - w % 2), max(2, h - h % 2)


def _median(values: np.ndarray, window: int) -> np.ndarray:
    if len(values) < 3:
        return values.copy()
    half = window // 2
    padded = np.pad(values, half, mode="edge")
    return np.array([np.median(padded[i : i + window]) for i in range(len(values))])


def _gaussian(values: np.ndarray, sigma: float) -> np.ndarray:
    if len(values) < 3 or sigma <= 0:
        return values.copy()
    radius = max(1, int(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(values, radius, mode="edge")
    return np.convolve(padded, k, mode="valid")


def _dead_zone(values: np.ndarray, zone: float) -> np.ndarray:
    """A lazy camera: it only moves when the target leaves +-zone around it, then trails the target."""
    out = np.empty_like(values)
    cam = float(np.median(values[: max(1, min(len(values), 3))]))
    for i, v in enumerate(values):
        if v > cam + zone:
            cam = v - zone
        elif v < cam - zone:
            cam = v + zone
        out[i] = cam
    return out


def _rdp(points: list[tuple[float, float, float]], eps: float) -> list[tuple[float, float, float]]:
    """Ramer-Douglas-Peucker on (t, x, y) keeping points whose x/y deviate more than eps from the chord."""
    if len(points) <= 2:
        return points
    t0, x0, y0 = points[0]
    t1, x1, y1 = points[-1]
    worst, idx = -1.0, 0
    for i in range(1, len(points) - 1):
        t, x, y = points[i]
        a = (t - t0) / (t1 - t0) if t1 > t0 else 0.0
        d = max(abs(x - (x0 + a * (x1 - x0))), abs(y - (y0 + a * (y1 - y0))))
        if d > worst:
            worst, idx = d, i
    if worst <= eps:
        return [points[0], points[-1]]
    return _rdp(points[: idx + 1], eps)[:-1] + _rdp(points[idx:], eps)


def _shot_path(
    times: np.ndarray, centres: np.ndarray, t_start: float, t_end: float, lo: float, hi: float, zone: float, rate: float
) -> list[tuple[float, float]]:
    """(t, window offset) keyframes for one axis of one shot; `centres` are wanted window offsets."""
    if hi <= lo:
        return [(t_start, lo), (t_end, lo)]
    valid = ~np.isnan(centres)
    if not valid.any():
        mid = (lo + hi) / 2
        return [(t_start, mid), (t_end, mid)]
    filled = np.interp(times, times[valid], centres[valid])
    path = _median(filled, 5)
    path = _dead_zone(path, zone)
    path = _gaussian(path, SMOOTH_SECONDS * rate)
    path = np.clip(path, lo, hi)
    keys = [(t_start, float(path[0]))]
    keys += [(float(t), float(v)) for t, v in zip(times, path, strict=True) if t_start < t < t_end]
    keys.append((t_end, float(path[-1])))
    return keys


@functools.lru_cache(maxsize=4)
def _analyse_file(
    video: Path, identity: tuple[int, int, int], start: float, end: float, samples_per_second: float
) -> _Analysis:
    """_analyse, remembered per file version (inode, size, mtime): a clip rendered at several output
    sizes is decoded and searched for faces once. The result is shared, so it is never modified."""
    del identity  # part of the cache key only
    return _analyse(video, start, end, samples_per_second)


def analyse_clip(video: Path | str, start: float, end: float, *, settings: Settings) -> _Analysis:
    """The clip's one low-resolution decode (cuts, faces, face tracks, mouth activity), shared by all sizes.

    `video` is a file or an http(s) URL (decoded with range requests from the clip's start)."""
    rate = settings.face_samples_per_second
    if is_url(video):
        return _analyse(video, start, end, rate, url_input_options(video, settings.source_request_bytes))
    video = Path(video)
    try:
        st = video.stat()
    except OSError:
        return _analyse(video, start, end, rate)  # raises the usual CorruptMedia
    return _analyse_file(video, (st.st_ino, st.st_size, st.st_mtime_ns), start, end, rate)


def plan_crop(
    video: Path | str, start: float, end: float, out_w: int, out_h: int, *, settings: Settings
) -> CropPlan:
    """Plan how clip [start, end) of `video` is framed at out_w x out_h: a face-following crop or a fit."""
    an = analyse_clip(video, start, end, settings=settings)
    return plan_from_analysis(an, out_w, out_h, settings.face_samples_per_second)


def plan_from_analysis(an: _Analysis, out_w: int, out_h: int, rate: float) -> CropPlan:
    """Turn face samples and cuts into a CropPlan (pure; separated for testing)."""
    W, H, D = an.width, an.height, an.duration
    found = sum(f is not None for f in an.faces)
    cw, ch = crop_size(W, H, out_w, out_h)
    base = CropPlan(
        layout="crop",
        source_width=W,
        source_height=H,
        out_width=out_w,
        out_height=out_h,
        crop_w=cw,
        crop_h=ch,
        scene_cuts=list(an.cuts),
        faces_found=found,
    )
    if abs(W / H - out_w / out_h) < 0.01:  # same aspect: plain scale
        base.crop_w, base.crop_h = W - W % 2, H - H % 2
        base.segments = [CropSegment(0.0, D, 0.0, 0.0, 0.0, 0.0)]
        return base
    bounds = [0.0, *[c for c in an.cuts if 0 < c < D], D]
    times = np.array(an.times, dtype=float)
    face_time = 0.0  # seconds of shots framed on a face
    shots: list[tuple[float, float, np.ndarray, np.ndarray, np.ndarray, bool]] = []
    for s0, s1 in itertools.pairwise(bounds):
        idx = [i for i, t in enumerate(an.times) if s0 - 1e-6 <= t < s1 - 1e-6]
        faces = [an.faces[i] for i in idx]
        hits = sum(f is not None for f in faces)
        on_face = bool(faces) and hits / len(faces) >= FACE_SHOT_FRACTION
        if on_face:
            face_time += s1 - s0
        xs = np.array([np.nan if f is None else f[0] - cw / 2 for f in faces], dtype=float)
        ys = np.array([np.nan if f is None else f[1] - FACE_Y_ANCHOR * ch for f in faces], dtype=float)
        if not on_face:
            xs[:] = np.nan
            ys[:] = np.nan
        shots.append((s0, s1, times[idx] if idx else np.array([]), xs, ys, on_face))
    if found == 0 or face_time == 0:
        base.layout = "fit"
        base.crop_w = base.crop_h = 0
        return base
    eps = max(2.0, 0.01 * W)
    segments: list[CropSegment] = []
    for s0, s1, ts, xs, ys, on_face in shots:
        if not on_face:  # a shot without a face (slides, wide shot): shown whole, over a blur
            cx, cy = (W - cw) / 2, (H - ch) / 2
            segments.append(CropSegment(round(s0, 3), round(s1, 3), cx, cy, cx, cy, layout="fit"))
            continue
        if len(ts) == 0:
            ts, xs, ys = np.array([s0]), np.array([np.nan]), np.array([np.nan])
        kx = _shot_path(ts, xs, s0, s1, 0.0, float(W - cw), DEAD_ZONE * cw, rate)
        ky = _shot_path(ts, ys, s0, s1, 0.0, float(H - ch), DEAD_ZONE * ch, rate)
        grid = sorted({round(t, 4) for t, _ in kx} | {round(t, 4) for t, _ in ky})
        xt, xv = zip(*kx, strict=True)
        yt, yv = zip(*ky, strict=True)
        pts = [(t, float(np.interp(t, xt, xv)), float(np.interp(t, yt, yv))) for t in grid]
        pts = _rdp(pts, eps)
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(pts):
            if t1 - t0 > 1e-4:
                segments.append(
                    CropSegment(round(t0, 3), round(t1, 3), round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1))
                )
    base.segments = segments
    return base


def _axis_expr(segments: list[CropSegment], axis: str) -> str:
    """A compact ffmpeg expression in t: nested if(lt(t,T), linear, ...) over the segments."""

    def lin(s: CropSegment) -> str:
        a, b = (s.x0, s.x1) if axis == "x" else (s.y0, s.y1)
        if abs(b - a) < 0.05 or s.t1 <= s.t0:
            return f"{a:.1f}"
        slope = (b - a) / (s.t1 - s.t0)
        return f"{a:.1f}+{slope:.4f}*(t-{s.t0:.3f})"

    # merge consecutive constant segments with the same value
    merged: list[CropSegment] = []
    for s in segments:
        if merged:
            p = merged[-1]
            pa, pb = (p.x0, p.x1) if axis == "x" else (p.y0, p.y1)
            sa, sb = (s.x0, s.x1) if axis == "x" else (s.y0, s.y1)
            if abs(pa - pb) < 0.05 and abs(sa - sb) < 0.05 and abs(pb - sa) < 0.05:
                merged[-1] = CropSegment(p.t0, s.t1, p.x0, p.y0, s.x1, s.y1)
                continue
        merged.append(s)
    if not merged:
        return "0"
    expr = lin(merged[-1])
    for s in reversed(merged[:-1]):
        expr = f"if(lt(t,{s.t1:.3f}),{lin(s)},{expr})"
    return expr


def crop_expressions(plan: CropPlan, segments: list[CropSegment] | None = None) -> tuple[str, str]:
    """The crop filter's x and y expressions (in t, clip seconds) for a crop plan (or some of its segments)."""
    segs = plan.segments if segments is None else segments
    return _axis_expr(segs, "x"), _axis_expr(segs, "y")
