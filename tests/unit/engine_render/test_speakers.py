"""Speaker-aware framing on the two-person conversation fixture: labels, focus cuts, split panes, overrides.

The fixture (scripts/make_fixtures.py --conversation) shows person A (the astronaut, warm colours) on
the left and person B (a mirrored, blue-shifted copy) on the right; each mouth opens with its own
voice. Who is in an output frame is read from the pixels: a Haar face and its colour (B is blue).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from chalicelib.engine.captions import write_ass
from chalicelib.engine.errors import InvalidOptions
from chalicelib.engine.layouts import (
    HYSTERESIS_SECONDS,
    MIN_SHOT_SECONDS,
    FramedClip,
    _outside,
    _Turn,
    captions_between_panes,
    focus_switches,
    frame_clip,
    plan_from_keyframes,
    rapid_spans,
)
from chalicelib.engine.platforms import SafeArea
from chalicelib.engine.render import render_clip
from chalicelib.engine.types import ClipOptions, LayoutKeyframe, Word
from chalicelib.settings import Settings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "conversation.mp4"
SCRIPT = json.loads(FIXTURE.with_name("conversation_script.json").read_text())
W, H = 360, 640  # a small 9:16 output keeps the renders cheap
FOCUS = (0.0, 41.0)  # two long turns each, both interjections ("Really?", "Exactly."), the scene cut
AUTO = (33.0, 60.0)  # a long turn, the rapid exchange, a long turn
LABEL = {"A": "S1", "B": "S2"}  # people are numbered left to right
_CASCADE = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def script_words(start: float, end: float) -> list[tuple[Word, str]]:
    """The script's words in clip seconds, spread over each turn by length, with who says them."""
    out: list[tuple[Word, str]] = []
    for turn in SCRIPT["turns"]:
        tokens = turn["text"].split()
        weights = np.array([len(t) + 1 for t in tokens], dtype=float)
        edges = turn["start"] + np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum() * (
            turn["end"] - turn["start"]
        )
        for tok, a, b in zip(tokens, edges[:-1], edges[1:], strict=True):
            if a >= start and b - 0.04 <= end:
                out.append((Word(tok, round(a - start, 3), round(b - 0.04 - start, 3)), turn["speaker"]))
    return out


def who_is_in(img: np.ndarray) -> list[tuple[str, float]]:
    """People found in an RGB image: ("A" or "B", face centre y) for each Haar face, by its colour."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    faces = _CASCADE.detectMultiScale(gray, scaleFactor=1.15, minNeighbors=5, minSize=(60, 60), maxSize=(220, 220))
    people = []
    for x, y, w, h in faces:
        r, _g, b = img[y : y + h, x : x + w].reshape(-1, 3).mean(axis=0)
        people.append(("B" if b > r else "A", float(y + h / 2)))
    return people


def speaker_at(t: float) -> str | None:
    return next((turn["speaker"] for turn in SCRIPT["turns"] if turn["start"] <= t <= turn["end"]), None)


def output_cuts(path: Path, frames_of: Callable[..., dict[float, np.ndarray]], duration: float) -> list[float]:
    """Times (s) where the output picture changes all at once: a cut."""
    times = [round(k / 30, 4) for k in range(int(duration * 30))]
    frames = frames_of(path, times, "gray")
    cuts = []
    for a, b in itertools.pairwise(times):
        if a in frames and b in frames and float(cv2.absdiff(frames[a], frames[b]).mean()) > 12:
            cuts.append(b)
    return cuts


@pytest.fixture(scope="module")
def focus_clip(settings: Settings) -> FramedClip:
    words = [w for w, _ in script_words(*FOCUS)]
    return frame_clip(FIXTURE, *FOCUS, W, H, words, "focus", settings=settings)


@pytest.fixture(scope="module")
def focus_mp4(focus_clip: FramedClip, render_dir: Path, settings: Settings) -> Path:
    out = render_dir / "focus.mp4"
    render_clip(FIXTURE, *FOCUS, focus_clip.plan, None, out, settings=settings)
    return out


@pytest.fixture(scope="module")
def auto_clip(settings: Settings) -> FramedClip:
    words = [w for w, _ in script_words(*AUTO)]
    return frame_clip(FIXTURE, *AUTO, W, H, words, "auto", settings=settings)


@pytest.fixture(scope="module")
def auto_mp4(auto_clip: FramedClip, render_dir: Path, settings: Settings) -> Path:
    ass = write_ass(auto_clip.words, "karaoke", W, H, SafeArea(0, 0, 0, 0), render_dir / "auto.ass")
    assert ass is not None
    captions_between_panes(ass, auto_clip.plan)
    out = render_dir / "auto.mp4"
    render_clip(FIXTURE, *AUTO, auto_clip.plan, ass, out, settings=settings)
    return out


def test_speaker_labels_agree_with_the_script(focus_clip: FramedClip, auto_clip: FramedClip) -> None:
    for clip, span in ((focus_clip, FOCUS), (auto_clip, AUTO)):
        truth = [LABEL[who] for _, who in script_words(*span)]
        got = [w.speaker for w in clip.words]
        assert len(got) == len(truth)
        agree = sum(g == t for g, t in zip(got, truth, strict=True)) / len(truth)
        assert agree >= 0.9, agree
        # every sentence is labelled with the person whose turn it lies in
        for s in clip.sentences:
            assert s["speaker"] == LABEL[speaker_at(span[0] + (s["start"] + s["end"]) / 2) or "A"], s


def test_focus_frames_hold_the_person_speaking(
    focus_mp4: Path, frames_of: Callable[..., dict[float, np.ndarray]]
) -> None:
    times = [round(t, 2) for t in np.arange(0.2, FOCUS[1] - FOCUS[0] - 0.2, 0.4) if speaker_at(FOCUS[0] + t)]
    frames = frames_of(focus_mp4, times)
    assert len(frames) == len(times)
    hits = sum(speaker_at(FOCUS[0] + t) in {p for p, _ in who_is_in(frames[t])} for t in times)
    assert hits / len(times) >= 0.95, (hits, len(times))


def test_focus_cuts_only_between_turns_with_min_shot_and_hysteresis(
    focus_mp4: Path, focus_clip: FramedClip, frames_of: Callable[..., dict[float, np.ndarray]]
) -> None:
    duration = FOCUS[1] - FOCUS[0]
    cuts = output_cuts(focus_mp4, frames_of, duration)
    assert len(cuts) >= 4  # A -> B -> A -> B (at the scene cut: A) -> B
    bounds = [0.0, *cuts, duration]
    assert min(b - a for a, b in itertools.pairwise(bounds)) >= MIN_SHOT_SECONDS - 0.05
    for turn in SCRIPT["turns"]:
        s, e = turn["start"] - FOCUS[0], turn["end"] - FOCUS[0]
        if e > duration:
            continue
        assert not any(s + 0.05 < c < e - 0.05 for c in cuts), (turn["text"], cuts)  # never within a turn
        if e - s < HYSTERESIS_SECONDS:  # the interjections: no cut to them or back
            assert not any(s - 0.5 < c < e + 0.5 for c in cuts), (turn["text"], cuts)
    layouts = {k.layout for k in focus_clip.keyframes}
    assert layouts == {"focus"}


def test_focus_switch_rules() -> None:
    """Pure rules: an interjection shorter than the hysteresis and a turn that would leave a short shot."""
    units = [_Turn(0.0, 6.0, "S1"), _Turn(6.3, 6.8, "S2"), _Turn(7.1, 12.0, "S1"), _Turn(12.3, 16.0, "S2")]
    assert focus_switches(units, [], [], 16.0) == [(0.0, "S1"), (12.15, "S2")]
    # a long turn right after a cut waits for the minimum shot length (its next sentence boundary)
    units = [_Turn(0.0, 1.0, "S1"), _Turn(1.2, 3.0, "S2"), _Turn(3.2, 8.0, "S2")]
    assert focus_switches(units, [], [], 8.0) == [(0.0, "S1"), (3.1, "S2")]


def test_rapid_exchange_and_sentences_running_into_it() -> None:
    """Word-level turns (a transcriber that runs short answers together) still make a split stretch,
    and a sentence running into the stretch keeps its part outside it for focus."""
    long_a = [_Turn(0.0, 5.0, "S1")]
    rapid = [_Turn(5.3 + 1.2 * i, 6.2 + 1.2 * i, "S2" if i % 2 == 0 else "S1") for i in range(6)]
    long_b = [_Turn(12.8, 18.0, "S2")]
    spans = rapid_spans(long_a + rapid + long_b, 18.0)
    assert spans == [(5.15, 12.5)]
    assert rapid_spans(long_a + rapid[:1] + long_b, 18.0) == []  # one interjection is no exchange
    assert _outside(_Turn(3.0, 7.0, "S1"), spans) == [_Turn(3.0, 5.15, "S1")]


def test_auto_splits_the_rapid_exchange_with_captions_between(
    auto_mp4: Path, auto_clip: FramedClip, frames_of: Callable[..., dict[float, np.ndarray]]
) -> None:
    kinds = [k.layout for k in auto_clip.keyframes]
    assert "split" in kinds and "focus" in kinds
    split = next(k for k in auto_clip.keyframes if k.layout == "split")
    rapid = [t for t in SCRIPT["turns"] if t["start"] >= 44 and t["end"] <= 56.3]
    assert split.start <= rapid[0]["start"] - AUTO[0] and split.end >= rapid[-1]["end"] - AUTO[0]
    times = [round(t, 2) for t in np.arange(split.start + 0.3, split.end - 0.3, 1.0)]
    frames = frames_of(auto_mp4, times)
    yellow_rows: list[float] = []
    for t in times:
        people = who_is_in(frames[t])
        assert ("A", True) in {(p, y < H / 2) for p, y in people}, (t, people)  # A in the top pane
        assert ("B", False) in {(p, y < H / 2) for p, y in people}, (t, people)  # B in the bottom pane
        img = frames[t].astype(int)
        ys, _xs = np.nonzero((img[..., 0] > 200) & (img[..., 1] > 170) & (img[..., 2] < 90))
        yellow_rows.extend(ys.tolist())
    assert yellow_rows, "no karaoke highlight seen in the split frames"
    assert abs(float(np.median(yellow_rows)) - H / 2) < 0.1 * H  # captions sit on the seam, not on a face


def test_keyframes_override_without_analysis(render_dir: Path, settings: Settings) -> None:
    """Edited keyframes re-render without a new analysis: focus on B, then both stacked."""
    b = SCRIPT["scenes"][0]["faces"]["B"]
    a = SCRIPT["scenes"][0]["faces"]["A"]
    box = {"speaker": "S2", "x": b[0], "y": b[1], "w": b[2], "h": b[3]}
    keyframes = [
        LayoutKeyframe(0.0, 1.5, "focus", "S2", [box]),
        LayoutKeyframe(1.5, 3.0, "split", None, [{"speaker": "S1", "x": a[0], "y": a[1], "w": a[2], "h": a[3]}, box]),
    ]
    plan = plan_from_keyframes(keyframes, 1280, 720, W, H)
    out = render_dir / "override.mp4"
    render_clip(FIXTURE, 2.0, 5.0, plan, None, out, settings=settings)
    from .conftest import decode_frames

    frames = decode_frames(out, [0.7, 2.3])
    assert {p for p, _ in who_is_in(frames[0.7])} == {"B"}
    assert sorted(who_is_in(frames[2.3]), key=lambda p: p[1])[0][0] == "A"
    assert {p for p, _ in who_is_in(frames[2.3])} == {"A", "B"}


def test_layout_option_is_validated() -> None:
    assert ClipOptions(layout="split").validate().layout == "split"
    with pytest.raises(InvalidOptions, match="layout"):
        ClipOptions(layout="zoom").validate()


def test_one_person_talk_plans_as_before(talk_path: Path, settings: Settings, talk_plan: Any) -> None:
    """The single-speaker fixture: auto and focus give exactly reframe's one-face plan."""
    from .conftest import CLIP_END, CLIP_START, OUT_H, OUT_W

    for layout in ("auto", "focus"):
        framed = frame_clip(talk_path, CLIP_START, CLIP_END, OUT_W, OUT_H, [], layout, settings=settings)
        assert framed.plan == talk_plan
        assert {k.layout for k in framed.keyframes} <= {"focus", "fit"}


def test_edit_layout_keyframes_show_each_span_as_asked(render_dir: Path, settings: Settings) -> None:
    """An edit's [{at, layout}] keyframes (PATCH /v1/clips) become spans framed by the analysis: split, then focus."""
    from chalicelib.pipeline.render import layout_spans

    from .conftest import decode_frames

    start, end = 2.0, 8.0
    spans = layout_spans([{"at": 3.0, "layout": "focus"}, {"at": 0.0, "layout": "split"}], end - start)
    assert spans == [(0.0, 3.0, "split"), (3.0, 6.0, "focus")]
    words = [w for w, _ in script_words(start, end)]
    framed = frame_clip(FIXTURE, start, end, W, H, words, "auto", settings=settings, layout_spans=spans)
    assert framed.keyframes[0].layout == "split" and framed.keyframes[-1].layout == "focus"
    assert framed.keyframes[-1].end == pytest.approx(6.0, abs=0.05)
    out = render_dir / "edit_spans.mp4"
    render_clip(FIXTURE, start, end, framed.plan, None, out, settings=settings)
    frames = decode_frames(out, [1.5, 4.5])
    stacked = sorted(who_is_in(frames[1.5]), key=lambda p: p[1])
    assert [p for p, _ in stacked] == ["A", "B"], stacked  # both people, A in the top pane
    assert len({p for p, _ in who_is_in(frames[4.5])}) == 1  # one person held in the crop
