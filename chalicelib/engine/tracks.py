"""Face tracks and mouth activity, collected during reframe's single low-resolution decode.

Every face sample links its detections to tracks by position and size continuity; after a scene cut
the tracks go dormant and a new detection is re-identified with a dormant track by appearance (a
normalised 16x16 luma patch) or, failing that, by position. Between samples, while two or more
tracks are on screen, each track's mouth activity is measured on every frame (at most ~14 a second):
the motion in the lower part of its face box minus the motion in the upper part (so a camera move or
a nodding head does not count as talking). speakers.py correlates that activity with the words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

LINK_DISTANCE = 0.6  # a detection continues a track when its centre is within this many face sizes
LINK_SIZE_RATIO = 1.6  # ... and its size within this factor
REID_MIN_CORRELATION = 0.55  # appearance match needed to re-identify a dormant track (after a cut)
REID_POSITION = 1.2  # ... or a centre within this many face sizes of where the track was last seen
DORMANT_AFTER = 1.5  # seconds without a detection before a track stops being followed
MOUTH_MIN_INTERVAL = 0.07  # seconds between mouth-activity measurements
FULL_SCAN_SECONDS = 8.0  # the whole frame is searched for new faces at least this often
MIN_TRACK_SHARE = 0.2  # a track seen in less than this share of a clip's samples is noise
MIN_TRACK_HITS = 3

Box = tuple[float, float, float]  # (cx, cy, size)


@dataclass
class FaceTrack:
    """One person on screen: detections (source display pixels) at sample times (clip seconds)."""

    id: int
    times: list[float] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    signature: np.ndarray | None = None
    active: bool = True

    @property
    def last(self) -> Box:
        return self.boxes[-1]

    def box_at(self, t: float) -> Box | None:
        """The detection nearest in time to t (None when the track has none)."""
        if not self.times:
            return None
        i = int(np.argmin(np.abs(np.asarray(self.times) - t)))
        return self.boxes[i]

    def median_box(self, t0: float, t1: float) -> Box | None:
        """The median detection between t0 and t1, or None when the track was not seen then."""
        sel = [b for t, b in zip(self.times, self.boxes, strict=True) if t0 - 1e-6 <= t < t1 - 1e-6]
        if not sel:
            return None
        arr = np.asarray(sel)
        return float(np.median(arr[:, 0])), float(np.median(arr[:, 1])), float(np.median(arr[:, 2]))


def _signature(gray: np.ndarray, box: Box) -> np.ndarray | None:
    cx, cy, size = box
    h = size / 2
    patch = gray[max(0, int(cy - h)) : int(cy + h), max(0, int(cx - h)) : int(cx + h)]
    if patch.size < 16:
        return None
    v = cv2.resize(patch, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    v -= v.mean()
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-6 else None


def _region(gray: np.ndarray, box: Box, y0: float, y1: float) -> tuple[slice, slice]:
    cx, cy, s = box
    h, w = gray.shape
    rows = slice(max(0, int(cy + y0 * s)), min(h, int(cy + y1 * s)))
    cols = slice(max(0, int(cx - 0.3 * s)), min(w, int(cx + 0.3 * s)))
    return rows, cols


def dedupe(boxes: list[Box]) -> list[Box]:
    """Drop repeated detections of one face (centres within half the smaller size, similar sizes)."""
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b[2]):
        if all(
            math.hypot(b[0] - k[0], b[1] - k[1]) > 0.5 * min(b[2], k[2]) or k[2] > LINK_SIZE_RATIO * b[2]
            for k in kept
        ):
            kept.append(b)
    return kept


@dataclass
class Tracker:
    """Links face detections into tracks and measures each visible track's mouth activity."""

    kx: float = 1.0  # analysis pixels -> source pixels
    ky: float = 1.0
    tracks: list[FaceTrack] = field(default_factory=list)
    mouth_times: list[float] = field(default_factory=list)
    mouth: list[dict[int, float]] = field(default_factory=list)
    last_full_scan: float = -1e9
    _prev_gray: np.ndarray | None = None
    _last_mouth: float = -1e9
    _last_seen: dict[int, float] = field(default_factory=dict)

    def active(self) -> list[FaceTrack]:
        return [t for t in self.tracks if t.active]

    def active_boxes(self) -> list[tuple[int, Box]]:
        """Active tracks' last boxes in analysis pixels."""
        return [(t.id, (t.last[0] / self.kx, t.last[1] / self.ky, t.last[2] / self.kx)) for t in self.active()]

    def cut(self) -> None:
        """A scene cut: every track goes dormant (re-identified later by appearance or position)."""
        for t in self.tracks:
            t.active = False
        self._prev_gray = None

    def update(self, t: float, gray: np.ndarray, detections: list[Box]) -> None:
        """Link this sample's detections (analysis pixels) to tracks."""
        for tr in self.active():
            if t - self._last_seen.get(tr.id, t) > DORMANT_AFTER:
                tr.active = False
        free = list(dedupe(detections))
        pairs = sorted(
            (math.hypot(d[0] - b[0], d[1] - b[1]) / max(b[2], 1.0), ti, di)
            for ti, (_tid, b) in enumerate(self.active_boxes())
            for di, d in enumerate(free)
            if max(d[2], b[2]) / max(1.0, min(d[2], b[2])) <= LINK_SIZE_RATIO
        )
        active = self.active()
        used_t: set[int] = set()
        used_d: set[int] = set()
        for dist, ti, di in pairs:
            if dist > LINK_DISTANCE or ti in used_t or di in used_d:
                continue
            used_t.add(ti)
            used_d.add(di)
            self._add(active[ti], t, free[di], gray)
        for di, d in enumerate(free):
            if di not in used_d:
                self._add(self._reidentify(d, gray), t, d, gray)

    def _reidentify(self, d: Box, gray: np.ndarray) -> FaceTrack:
        sig = _signature(gray, d)
        best: tuple[float, FaceTrack] | None = None
        for tr in self.tracks:
            if tr.active:
                continue
            lx, ly, ls = tr.last[0] / self.kx, tr.last[1] / self.ky, tr.last[2] / self.kx
            near = math.hypot(d[0] - lx, d[1] - ly) / max(ls, 1.0)
            corr = float(sig @ tr.signature) if sig is not None and tr.signature is not None else 0.0
            score = corr - 0.1 * near
            if (corr >= REID_MIN_CORRELATION or near <= REID_POSITION) and (best is None or score > best[0]):
                best = (score, tr)
        if best is not None:
            best[1].active = True
            return best[1]
        tr = FaceTrack(id=len(self.tracks) + 1)
        self.tracks.append(tr)
        return tr

    def _add(self, tr: FaceTrack, t: float, d: Box, gray: np.ndarray) -> None:
        tr.times.append(round(t, 3))
        tr.boxes.append((d[0] * self.kx, d[1] * self.ky, d[2] * self.kx))
        sig = _signature(gray, d)
        if sig is not None:
            tr.signature = sig if tr.signature is None else _unit(0.8 * tr.signature + 0.2 * sig)
        tr.active = True
        self._last_seen[tr.id] = t

    def wants_mouth(self, t: float) -> bool:
        """Whether this frame should be measured: two or more faces on screen and the interval passed."""
        return len(self.active()) >= 2 and t - self._last_mouth >= MOUTH_MIN_INTERVAL

    def measure_mouths(self, t: float, gray: np.ndarray) -> None:
        """Mouth activity of every active track between the previous measured frame and this one."""
        prev, self._prev_gray, self._last_mouth = self._prev_gray, gray, t
        if prev is None or prev.shape != gray.shape:
            return
        values: dict[int, float] = {}
        for tid, box in self.active_boxes():
            lower = _region(gray, box, 0.12, 0.55)
            upper = _region(gray, box, -0.45, -0.05)
            if gray[lower].size == 0 or gray[upper].size == 0:
                continue
            low = float(cv2.absdiff(gray[lower], prev[lower]).mean())
            up = float(cv2.absdiff(gray[upper], prev[upper]).mean())
            values[tid] = max(0.0, low - up)
        self.mouth_times.append(round(t, 3))
        self.mouth.append(values)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-6 else v


def valid_tracks(tracks: list[FaceTrack], n_samples: int) -> list[FaceTrack]:
    """Tracks seen often enough to be a person, ordered left to right by median centre."""
    need = max(MIN_TRACK_HITS, MIN_TRACK_SHARE * n_samples)
    good = [t for t in tracks if len(t.times) >= need]
    med = {t.id: np.median(np.asarray(t.boxes), axis=0) for t in good}

    def holds_a_face(big: FaceTrack) -> bool:  # a "face" around a smaller face is a false detection
        bx, by, bs = med[big.id]
        return any(
            med[o.id][2] * 2 < bs and abs(med[o.id][0] - bx) < bs / 2 and abs(med[o.id][1] - by) < bs / 2
            for o in good
        )

    good = [t for t in good if not holds_a_face(t)]
    return sorted(good, key=lambda t: float(np.median([b[0] for b in t.boxes])))
