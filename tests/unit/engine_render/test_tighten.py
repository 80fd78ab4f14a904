"""Tightened clips on real renders: planted pauses and fillers cut, captions on the cut timeline, no clicks.

The fixture (tests/fixtures/tighten.mp4, from `python scripts/make_fixtures.py --tighten`) is espeak-ng
speech with two planted 1.5-1.8 s pauses and two planted fillers ("umm", "er"), transcribed here once by
the bundled model; the tightened render is transcribed again to check what the audio says.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chalicelib.engine import audio, transcribe
from chalicelib.engine.captions import write_ass
from chalicelib.engine.ffmpeg import ffmpeg_exe
from chalicelib.engine.platforms import SafeArea
from chalicelib.engine.reframe import plan_crop
from chalicelib.engine.render import render_clip
from chalicelib.engine.style import Style
from chalicelib.engine.tighten import Timeline, clip_timeline, is_filler, keep_ranges, to_output_time, total
from chalicelib.engine.types import Transcript, Word
from chalicelib.settings import Settings

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "tighten.mp4"
SCRIPT = json.loads(FIXTURE.with_name("tighten_script.json").read_text())
W, H = 360, 640  # small output: these tests are about the timeline, not the picture
SAFE = SafeArea(top=70, bottom=160, left=20, right=60)
FRAME = 1 / 30
THRESHOLD = 0.6
RATE = 48000


def decode_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray().mean(axis=0) for f in c.decode(audio=0)])


def loud_runs(x: np.ndarray, hop: float = 0.01) -> list[tuple[float, float]]:
    """Spans (s) where the 10 ms RMS is within 30 dB of the loudest frame (speech), tiny gaps bridged."""
    n = int(hop * RATE)
    rms = np.sqrt(np.mean(x[: len(x) // n * n].reshape(-1, n) ** 2, axis=1))
    on = rms > rms.max() * 10 ** (-30 / 20)
    runs: list[list[float]] = []
    for i, v in enumerate(on):
        if v and runs and i * hop - runs[-1][1] <= 0.12:  # a stop consonant inside a word is not a pause
            runs[-1][1] = (i + 1) * hop
        elif v:
            runs.append([i * hop, (i + 1) * hop])
    return [(a, b) for a, b in runs]


@pytest.fixture(scope="module")
def source_transcript(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Transcript:
    wav = audio.extract_audio(FIXTURE, tmp_path_factory.mktemp("tt") / "in.wav")
    return transcribe.transcribe(wav, language="en", settings=settings)


@pytest.fixture(scope="module")
def tightened(
    source_transcript: Transcript, tmp_path_factory: pytest.TempPathFactory, settings: Settings
) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("tight")
    start, end = 0.0, float(SCRIPT["duration"]) - 0.1  # inside the video stream (its last frame is earlier)
    style = Style.model_validate(
        {"captions": {"preset": "minimal"}, "tighten": {"remove_silences": True, "remove_filler_words": True}}
    )
    timeline = clip_timeline(source_transcript, start, end, style.tighten)
    ass = write_ass(timeline.words, style, W, H, SAFE, d / "t.ass")
    assert ass is not None
    ass_text = ass.read_text()
    plan = plan_crop(FIXTURE, start, end, W, H, settings=settings)
    out = d / "tight.mp4"
    rendered = render_clip(FIXTURE, start, end, plan, ass, out, settings=settings, keep_ranges=timeline.ranges)
    wav = audio.extract_audio(out, d / "out.wav")
    heard = transcribe.transcribe(wav, language="en", settings=settings)
    return {"timeline": timeline, "out": out, "rendered": rendered, "ass": ass_text, "heard": heard}


def test_fixture_has_planted_pauses_and_fillers(source_transcript: Transcript) -> None:
    """The precondition the other tests rely on: the model hears the fillers, and the pauses are there."""
    assert sum(is_filler(w) for w in source_transcript.words) == 2, [w.text for w in source_transcript.words]
    gaps = [b.start - a.end for a, b in itertools.pairwise(source_transcript.words)]
    assert sum(g > 1.2 for g in gaps) >= 2


def test_duration_is_the_kept_ranges(tightened: dict[str, Any]) -> None:
    timeline: Timeline = tightened["timeline"]
    assert timeline.ranges and len(timeline.ranges) >= 4
    expected = total(timeline.ranges)
    assert expected < SCRIPT["duration"] - 2.5  # the planted pauses (and fillers) are gone
    with av.open(str(tightened["out"])) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert float(v.duration * v.time_base) == pytest.approx(expected, abs=FRAME + 1e-6)
        assert v.frames == pytest.approx(expected * 30, abs=1)
        assert float(a.duration * a.time_base) == pytest.approx(expected, abs=FRAME + 1e-6)
    assert tightened["rendered"].duration == pytest.approx(expected, abs=1e-6)


def test_no_gap_above_threshold(tightened: dict[str, Any]) -> None:
    words = tightened["timeline"].words
    assert max(b.start - a.end for a, b in itertools.pairwise(words)) <= THRESHOLD + FRAME
    runs = loud_runs(decode_audio(tightened["out"]))
    silences = [b[0] - a[1] for a, b in itertools.pairwise(runs)]
    assert silences and max(silences) <= THRESHOLD, silences  # heard in the audio, not only in the timings


def test_caption_onsets_match_speech(tightened: dict[str, Any]) -> None:
    """Every spoken phrase (speech after a pause) starts with a caption, within 120 ms, on the cut timeline."""
    starts = []
    for line in tightened["ass"].splitlines():
        m = re.match(r"Dialogue: \d+,(\d+):(\d+):(\d+\.\d+),", line)
        if m:
            starts.append(int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3)))
    runs = loud_runs(decode_audio(tightened["out"]))
    onsets = [runs[0][0]] + [b[0] for a, b in itertools.pairwise(runs) if b[0] - a[1] >= 0.15]
    assert len(onsets) >= 5
    for onset in onsets:
        assert min(abs(s - onset) for s in starts) <= 0.12, (onset, starts)


def test_fillers_gone_from_audio_and_captions(tightened: dict[str, Any], source_transcript: Transcript) -> None:
    heard = [w.text for w in tightened["heard"].words]
    assert not any(is_filler(w) for w in tightened["heard"].words), heard
    assert not any(is_filler(w) for w in tightened["timeline"].words)
    assert not re.search(r"\b(um|uh|umm|er)\b", tightened["ass"], re.IGNORECASE)
    said = [w for w in source_transcript.words if not is_filler(w)]
    assert abs(len(heard) - len(said)) <= 3  # the speech itself is still there


@pytest.fixture(scope="module")
def gated_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s: a 300 Hz tone during even seconds, silence during odd ones (with a small test picture)."""
    path = tmp_path_factory.mktemp("tone") / "gated.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=6",
         "-f", "lavfi", "-i", "sine=f=300:d=6:sample_rate=48000,volume=volume='1-mod(floor(t),2)':eval=frame",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_joins_do_not_click(gated_tone: Path, render_dir: Path, settings: Settings) -> None:
    """Cuts from the tone into silence at three different phases: the crossfade keeps every step tone-sized."""
    plan = plan_crop(gated_tone, 0.0, 6.0, 180, 320, settings=settings)
    ranges = [(0.2, 0.5003), (1.2, 1.5), (2.2, 2.50141), (3.2, 3.5), (4.2, 4.50252), (5.2, 5.5)]
    out = render_dir / "joins.mp4"
    render_clip(gated_tone, 0.0, 6.0, plan, None, out, settings=settings, keep_ranges=ranges)
    x = decode_audio(out)
    step = np.abs(np.diff(x))
    steady = step[int(0.05 * RATE) : int(0.25 * RATE)].max()  # inside the first tone piece
    assert steady > 0.002  # the tone is there
    joins = list(itertools.accumulate(b - a for a, b in ranges))[:-1]
    at_joins = [step[int(j * RATE) - 480 : int(j * RATE) + 480].max() for j in joins]
    assert max(at_joins) <= 2.0 * steady, (steady, at_joins)


def test_keep_ranges_rules() -> None:
    from chalicelib.engine.style import Tighten

    words = [Word("one", 0.5, 0.9), Word("um", 1.0, 1.3), Word("two", 1.4, 1.8), Word("three", 4.0, 4.5)]
    both = keep_ranges(words, 0.0, 5.0, Tighten(remove_silences=True, remove_filler_words=True))
    kept = total(both)
    # 0.5 s lead-in and tail stay (< 0.6 s); the filler goes, its 0.2 s of silence stays; 2.2 s pause -> 0.2 s
    assert all(abs(a / FRAME - round(a / FRAME)) < 1e-3 for r in both for a in r)
    assert not any(a < 1.15 < b for a, b in both)  # the filler is cut
    assert kept == pytest.approx(5.0 - 0.3 - 2.0, abs=2 * FRAME)
    only_fillers = keep_ranges(words, 0.0, 5.0, Tighten(remove_filler_words=True))
    assert total(only_fillers) == pytest.approx(5.0 - 0.3, abs=2 * FRAME)
    assert to_output_time(4.0, both) == pytest.approx(kept - 1.0, abs=2 * FRAME)
