"""Speaker-aware layouts: keyframes (focus / split / fit per stretch) and the crop plan for one output size.

`plan_keyframes` decides, once per clip, what each stretch shows:
- focus: the crop holds the active speaker; it changes speaker only with a cut at a sentence boundary,
  never inside a sentence, when the new speaker's turn lasts at least HYSTERESIS_SECONDS (a one-word
  interjection does not flip the frame) and no shot gets shorter than MIN_SHOT_SECONDS;
- split: two people, one pane each (requested, or in `auto` for stretches of rapid turns);
- fit: nobody on screen.
`plan_from_keyframes` turns keyframes into a CropPlan for one output size (within a focus stretch the
crop follows that face smoothly, as reframe does for one face); it also takes keyframes edited later,
with or without the analysis (without it, focus crops hold still on the keyframe's box).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..settings import Settings
from .reframe import DEAD_ZONE, FACE_Y_ANCHOR, _Analysis, _rdp, _shot_path, analyse_clip, crop_size, plan_from_analysis
from .segment import split_sentences
from .speakers import Speakers, label_speakers
from .tracks import Box
from .types import CropPlan, CropSegment, LayoutKeyframe, Sentence, Transcript, Word

MIN_SHOT_SECONDS = 2.0  # no speaker cut leaves a shot shorter than this
HYSTERESIS_SECONDS = 1.5  # a turn shorter than this (an interjection) never takes the frame
RAPID_TURN_SECONDS = 3.0  # auto: turns shorter than this ...
RAPID_MIN_TURNS = 4  # ... this many in a row (two people or more) make a split stretch
SPLIT_MIN_SECONDS = 4.0
PANE_FACE_HEIGHTS = 3.2  # a split pane is about this many face sizes tall
PANE_FACE_Y = 0.42  # the face centre sits this far down its pane


@dataclass
class _Turn:
    start: float
    end: float
    speaker: str


def _turns(units: list[_Turn]) -> list[_Turn]:
    """Consecutive sentences of one speaker merged into turns."""
    out: list[_Turn] = []
    for u in units:
        if out and out[-1].speaker == u.speaker:
            out[-1] = _Turn(out[-1].start, u.end, u.speaker)
        else:
            out.append(_Turn(u.start, u.end, u.speaker))
    return out


def _gap_mid(prev_end: float | None, start: float, default: float) -> float:
    return default if prev_end is None else (prev_end + start) / 2


def rapid_spans(units: list[_Turn], duration: float) -> list[tuple[float, float]]:
    """Stretches of RAPID_MIN_TURNS or more short turns by two or more people (clip seconds)."""
    turns = _turns(units)
    spans: list[tuple[float, float]] = []
    i = 0
    while i < len(turns):
        j = i
        while j < len(turns) and turns[j].end - turns[j].start < RAPID_TURN_SECONDS:
            j += 1
        if j - i >= RAPID_MIN_TURNS and len({t.speaker for t in turns[i:j]}) >= 2:
            s0 = _gap_mid(turns[i - 1].end if i else None, turns[i].start, 0.0)
            s1 = _gap_mid(turns[j - 1].end, turns[j].start, duration) if j < len(turns) else duration
            if s1 - s0 >= SPLIT_MIN_SECONDS:
                spans.append((round(s0, 3), round(s1, 3)))
        i = max(j, i + 1)
    return spans


def focus_switches(
    units: list[_Turn], cuts: list[float], edges: list[float], duration: float
) -> list[tuple[float, str]]:
    """(time, speaker) each focus shot starts with: cuts between sentences, hysteresis, minimum shot length.

    `cuts` are the source's scene cuts and `edges` the ends of split stretches (hard shot boundaries)."""
    if not units:
        return []
    hard = sorted({*cuts, *edges})
    events = [(0.0, units[0].speaker)]
    cur, last = units[0].speaker, 0.0
    for k, u in enumerate(units):
        prev_end = units[k - 1].end if k else None
        passed = [h for h in hard if (prev_end if prev_end is not None else 0.0) - 1e-6 <= h <= u.start + 1e-6]
        if passed:
            last = max(last, passed[-1])
            if passed[-1] in edges and u.speaker != cur:  # focus resumes after a split on whoever speaks
                events.append((passed[-1], u.speaker))
                cur = u.speaker
                continue
        if u.speaker == cur:
            continue
        run = k
        while run + 1 < len(units) and units[run + 1].speaker == u.speaker:
            run += 1
        run_end = units[run].end
        for j in range(k, run + 1):  # the first sentence boundary of this turn that keeps shots long enough
            pe = units[j - 1].end if j else None
            t = _gap_mid(pe, units[j].start, units[j].start)
            snap = [c for c in cuts if (pe if pe is not None else 0.0) - 1e-6 <= c <= units[j].start + 1e-6]
            if snap:
                t = snap[0]
            next_hard = next((h for h in hard if h > t + 1e-6), duration)
            if run_end - units[j].start < HYSTERESIS_SECONDS:
                break
            if (t - last >= MIN_SHOT_SECONDS or t in cuts) and next_hard - t >= MIN_SHOT_SECONDS:
                events.append((round(t, 3), u.speaker))
                cur, last = u.speaker, t
                break
    return events


def _box_dict(label: str, box: Box) -> dict[str, object]:
    cx, cy, s = box
    return {"speaker": label, "x": round(cx - s / 2, 1), "y": round(cy - s / 2, 1), "w": round(s, 1), "h": round(s, 1)}


def plan_keyframes(
    an: _Analysis, speakers: Speakers, sentences: list[Sentence], layout: str, words: list[Word] | None = None
) -> list[LayoutKeyframe]:
    """The clip's layout decisions for `layout` (auto, focus, split or fit), in clip seconds.

    Focus cuts fall between sentences; rapid exchanges are found on the word labels when `words` (with
    speakers) are given, since a transcriber often runs short answers together without punctuation."""
    D = an.duration
    people = speakers.tracks
    if layout == "fit" or not people:
        return [LayoutKeyframe(0.0, round(D, 3), "fit")]
    units = [_Turn(s.start, s.end, lab) for s, lab in zip(sentences, speakers.sentences, strict=True) if lab]
    if not units:  # no speech labelled: hold the first person
        units = [_Turn(0.0, D, next(iter(people)))]
    cuts = [round(c, 3) for c in an.cuts if 0 < c < D]
    splits: list[tuple[float, float]] = []
    if len(people) >= 2 and layout == "split":
        splits = [(0.0, round(D, 3))]
    elif len(people) >= 2 and layout == "auto":
        said = [_Turn(w.start, w.end, w.speaker) for w in words or [] if w.speaker]
        splits = rapid_spans(said or units, D)
    edges = [e for span in splits for e in span if 0 < e < D]
    free = [part for u in units for part in _outside(u, splits)]
    events = focus_switches(free, cuts, edges, D)
    bounds = sorted({0.0, round(D, 3), *cuts, *edges, *(t for t, _ in events)})
    frames: list[LayoutKeyframe] = []
    for a, b in itertools.pairwise(bounds):
        if b - a < 1e-3:
            continue
        mid = (a + b) / 2
        if any(s0 <= mid < s1 for s0, s1 in splits):
            pair = _split_pair(speakers, units, a, b)
            boxes = [(lab, people[lab].median_box(a, b)) for lab in pair]
            if len(pair) == 2 and all(box is not None for _, box in boxes):
                frames.append(LayoutKeyframe(a, b, "split", None, [_box_dict(lab, box) for lab, box in boxes if box]))
                continue
        speaker = next((s for t, s in reversed(events) if t <= mid), None) or next(iter(people))
        box = people[speaker].median_box(a, b)
        if box is None:  # the speaker is not on screen in this stretch: whoever is
            seen = [(lab, tr.median_box(a, b)) for lab, tr in people.items()]
            seen = [(lab, bx) for lab, bx in seen if bx is not None]
            if not seen:
                frames.append(LayoutKeyframe(a, b, "fit"))
                continue
            speaker, box = max(seen, key=lambda lb: lb[1][2])
        frames.append(LayoutKeyframe(a, b, "focus", speaker, [_box_dict(speaker, box)]))
    return _merge(frames, cuts)


def _outside(u: _Turn, spans: list[tuple[float, float]]) -> list[_Turn]:
    """The parts of a sentence outside the split stretches (a sentence may run into one)."""
    parts = [u]
    for a, b in spans:
        parts = [
            piece
            for p in parts
            for piece in (_Turn(p.start, min(p.end, a), p.speaker), _Turn(max(p.start, b), p.end, p.speaker))
            if piece.end - piece.start > 0.05
        ]
    return parts


def _split_pair(speakers: Speakers, units: list[_Turn], a: float, b: float) -> list[str]:
    """The two people who speak most in [a, b) (else the first two), left to right."""
    talk: dict[str, float] = dict.fromkeys(speakers.tracks, 0.0)
    for u in units:
        talk[u.speaker] += max(0.0, min(b, u.end) - max(a, u.start))
    top = sorted(talk, key=lambda lab: -talk[lab])[:2]
    order = list(speakers.tracks)
    return sorted(top, key=order.index)


def _merge(frames: list[LayoutKeyframe], cuts: list[float]) -> list[LayoutKeyframe]:
    """Join neighbours that show the same thing and are not separated by a scene cut."""
    out: list[LayoutKeyframe] = []
    for f in frames:
        p = out[-1] if out else None
        if p and p.layout == f.layout and p.speaker == f.speaker and f.layout != "split" and f.start not in cuts:
            out[-1] = LayoutKeyframe(p.start, f.end, p.layout, p.speaker, p.boxes)
        else:
            out.append(f)
    return [LayoutKeyframe(round(f.start, 3), round(f.end, 3), f.layout, f.speaker, f.boxes) for f in out]


def split_panes(out_w: int, out_h: int) -> tuple[bool, int, int]:
    """(stacked, pane width, pane height): portrait and square outputs stack, landscape ones sit side by side."""
    stacked = out_h >= out_w
    return (stacked, out_w, out_h // 2) if stacked else (stacked, out_w // 2, out_h)


def pane_window(box: dict[str, float], W: int, H: int, pw: int, ph: int) -> list[float]:
    """A crop window [x, y, w, h] of the pane's aspect around a face box, inside the W x H source."""
    aspect = pw / ph
    size = max(float(box["w"]), float(box["h"]))
    ch = min(float(H), PANE_FACE_HEIGHTS * size)
    cw = ch * aspect
    if cw > W:
        cw, ch = float(W), W / aspect
    cw, ch = max(2, int(cw) - int(cw) % 2), max(2, int(ch) - int(ch) % 2)
    cx, cy = float(box["x"]) + float(box["w"]) / 2, float(box["y"]) + float(box["h"]) / 2
    x = min(max(0.0, cx - cw / 2), W - cw)
    y = min(max(0.0, cy - PANE_FACE_Y * ch), H - ch)
    return [round(x, 1), round(y, 1), float(cw), float(ch)]


def plan_from_keyframes(
    keyframes: list[LayoutKeyframe], width: int, height: int, out_w: int, out_h: int,
    *, an: _Analysis | None = None, speakers: Speakers | None = None, rate: float = 3.0,
) -> CropPlan:
    """The CropPlan that shows `keyframes` at out_w x out_h (source `width` x `height`)."""
    W, H = width, height
    cw, ch = crop_size(W, H, out_w, out_h)
    plan = CropPlan(
        layout="crop", source_width=W, source_height=H, out_width=out_w, out_height=out_h, crop_w=cw, crop_h=ch,
        scene_cuts=list(an.cuts) if an else [], faces_found=sum(f is not None for f in an.faces) if an else 0,
    )
    end = keyframes[-1].end if keyframes else 0.0
    if abs(W / H - out_w / out_h) < 0.01:  # same aspect: plain scale, as reframe does
        plan.crop_w, plan.crop_h = W - W % 2, H - H % 2
        plan.segments = [CropSegment(0.0, end, 0.0, 0.0, 0.0, 0.0)]
        return plan
    if all(k.layout == "fit" for k in keyframes):
        plan.layout, plan.crop_w, plan.crop_h = "fit", 0, 0
        return plan
    _stacked, pw, ph = split_panes(out_w, out_h)
    segments: list[CropSegment] = []
    for k in keyframes:
        if k.layout == "fit" or not k.boxes:
            cx, cy = (W - cw) / 2, (H - ch) / 2
            segments.append(CropSegment(k.start, k.end, cx, cy, cx, cy, layout="fit"))
        elif k.layout == "split" and len(k.boxes) >= 2:
            panes = [pane_window(b, W, H, pw, ph) for b in k.boxes[:2]]
            segments.append(CropSegment(k.start, k.end, 0.0, 0.0, 0.0, 0.0, layout="split", panes=panes))
        else:
            segments.extend(_focus_segments(k, W, H, cw, ch, an, speakers, rate))
    plan.segments = segments
    return plan


def _focus_segments(
    k: LayoutKeyframe, W: int, H: int, cw: int, ch: int, an: _Analysis | None, speakers: Speakers | None, rate: float
) -> list[CropSegment]:
    """Crop segments holding keyframe k's face: following its track when the analysis is there, else still."""
    box = k.boxes[0]
    track = speakers.tracks.get(str(box.get("speaker"))) if speakers else None
    sel = [(t, b) for t, b in zip(track.times, track.boxes, strict=True) if k.start <= t < k.end] if track else []
    if an is None or not sel:
        cx, cy = float(box["x"]) + float(box["w"]) / 2, float(box["y"]) + float(box["h"]) / 2
        x = float(np.clip(cx - cw / 2, 0, W - cw))
        y = float(np.clip(cy - FACE_Y_ANCHOR * ch, 0, H - ch))
        return [CropSegment(k.start, k.end, round(x, 1), round(y, 1), round(x, 1), round(y, 1))]
    ts = np.array([t for t, _ in sel])
    xs = np.array([b[0] - cw / 2 for _, b in sel])
    ys = np.array([b[1] - FACE_Y_ANCHOR * ch for _, b in sel])
    kx = _shot_path(ts, xs, k.start, k.end, 0.0, float(W - cw), DEAD_ZONE * cw, rate)
    ky = _shot_path(ts, ys, k.start, k.end, 0.0, float(H - ch), DEAD_ZONE * ch, rate)
    grid = sorted({round(t, 4) for t, _ in kx} | {round(t, 4) for t, _ in ky})
    xt, xv = zip(*kx, strict=True)
    yt, yv = zip(*ky, strict=True)
    pts = _rdp([(t, float(np.interp(t, xt, xv)), float(np.interp(t, yt, yv))) for t in grid], max(2.0, 0.01 * W))
    return [
        CropSegment(round(t0, 3), round(t1, 3), round(x0, 1), round(y0, 1), round(x1, 1), round(y1, 1))
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(pts)
        if t1 - t0 > 1e-4
    ]


_DIALOGUE = re.compile(r"^Dialogue: (\d+),(\d+):(\d\d):(\d\d)\.(\d\d),")


def captions_between_panes(ass: Path, plan: CropPlan, to_output: Callable[[float], float] | None = None) -> None:
    """Move captions that start during a stacked split to the seam between the two panes (not over a face).

    `to_output` maps the plan's clip seconds onto the captions' timeline when the clip is tightened."""
    move = to_output or (lambda t: t)
    spans = [(move(s.t0), move(s.t1)) for s in plan.segments if s.layout == "split"]
    stacked, _pw, _ph = split_panes(plan.out_width, plan.out_height)
    if not spans or not stacked:
        return
    pos = f"{{\\an5\\pos({plan.out_width // 2},{plan.out_height // 2})}}"
    lines = ass.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        m = _DIALOGUE.match(line)
        if not m:
            continue
        t = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4)) + int(m.group(5)) / 100
        if any(a - 1e-3 <= t < b for a, b in spans):
            fields = line.split(",", 9)
            fields[9] = pos + fields[9]
            lines[i] = ",".join(fields)
    ass.write_text("\n".join(lines), encoding="utf-8")


@dataclass
class FramedClip:
    """How one clip is framed at one output size, and who speaks in it."""

    plan: CropPlan
    keyframes: list[LayoutKeyframe]
    words: list[Word]  # the clip's words (clip seconds) with their speaker labels
    sentences: list[dict[str, object]]  # {"text", "start", "end", "speaker"}


def span_keyframes(
    spans: list[tuple[float, float, str]], decide: Callable[[str], list[LayoutKeyframe]]
) -> list[LayoutKeyframe]:
    """Keyframes showing each (start, end, layout) span as that layout would have framed it: the decisions
    `decide(layout)` makes for the whole clip, cut to the span (so a focus span keeps its speaker boxes)."""
    decided: dict[str, list[LayoutKeyframe]] = {}
    out: list[LayoutKeyframe] = []
    for a, b, layout in spans:
        for k in decided.setdefault(layout, decide(layout)):
            s, e = max(k.start, a), min(k.end, b)
            if e - s > 1e-3:
                out.append(dataclasses.replace(k, start=round(s, 3), end=round(e, 3)))
    return out


def frame_clip(
    video: Path | str, start: float, end: float, out_w: int, out_h: int, words: list[Word], layout: str = "auto",
    *, settings: Settings, keyframes: list[LayoutKeyframe] | None = None,
    layout_spans: list[tuple[float, float, str]] | None = None,
) -> FramedClip:
    """Analyse clip [start, end) of `video` (cached across sizes), label who speaks each of `words`
    (clip seconds), decide the layout keyframes (or take `keyframes`, e.g. edited ones, or show each of
    `layout_spans` (clip seconds) in its own layout) and plan the crop for out_w x out_h. With one person
    or none on screen, auto and focus plan exactly as reframe."""
    an = analyse_clip(video, start, end, settings=settings)
    rate = settings.face_samples_per_second
    sentences = split_sentences(Transcript("", end - start, words)) if words else []
    spk = label_speakers(an.tracks, len(an.times), an.mouth_times, an.mouth, words, sentences)
    labelled = [dataclasses.replace(w, speaker=lab) for w, lab in zip(words, spk.words, strict=True)]
    if layout_spans and keyframes is None:
        keyframes = span_keyframes(layout_spans, lambda lay: plan_keyframes(an, spk, sentences, lay, labelled))
    decided = keyframes if keyframes is not None else plan_keyframes(an, spk, sentences, layout, labelled)
    if keyframes is None and layout in ("auto", "focus") and len(spk.tracks) <= 1:
        plan = plan_from_analysis(an, out_w, out_h, rate)
    else:
        plan = plan_from_keyframes(decided, an.width, an.height, out_w, out_h, an=an, speakers=spk, rate=rate)
    said = [
        {"text": s.text, "start": s.start, "end": s.end, "speaker": lab}
        for s, lab in zip(sentences, spk.sentences, strict=True)
    ]
    return FramedClip(plan, decided, labelled, said)
