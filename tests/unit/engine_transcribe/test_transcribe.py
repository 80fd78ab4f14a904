"""faster-whisper transcription on the fixture talk: words, timings, windows, chunking, bad audio, options."""

from __future__ import annotations

import difflib
import itertools
import time
import wave
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine import transcribe as tr
from chalicelib.engine.audio import extract_audio
from chalicelib.engine.errors import InvalidOptions, NoSpeech
from chalicelib.engine.types import Transcript, Word
from chalicelib.settings import load_settings

from .conftest import norm

SETTINGS = load_settings(environ={})


def _recall(words: list[Word], text: str) -> float:
    got = Counter(norm(w.text) for w in words)
    want = Counter(norm(x) for x in text.split())
    return sum((got & want).values()) / sum(want.values())


def test_words_are_clean_and_monotonic(talk_transcript: Transcript, talk_script: dict) -> None:
    words = talk_transcript.words
    assert talk_transcript.language == "en"
    assert abs(talk_transcript.duration - talk_script["duration"]) < 0.05
    assert len(words) > 300
    for w in words:
        assert w.text == w.text.strip() and w.text
        assert 0.0 <= w.start <= w.end <= talk_transcript.duration
        assert 0.0 <= w.probability <= 1.0
    for a, b in itertools.pairwise(words):
        assert a.end <= b.start, (a, b)
    assert Transcript.from_dict(talk_transcript.to_dict()).words == words


def test_each_paragraph_is_heard_where_it_was_spoken(talk_transcript: Transcript, talk_script: dict) -> None:
    """Per paragraph of the script: most of its words are recognised, and the first/last word edges sit
    on the paragraph's real start/end (known exactly from the synthesised WAVs)."""
    recalls = {}
    errors: list[float] = []
    for p in talk_script["paragraphs"]:
        inside = [w for w in talk_transcript.words if p["start"] - 0.3 <= (w.start + w.end) / 2 <= p["end"] + 0.3]
        assert inside, p["topic"]
        recalls[p["topic"]] = _recall(inside, p["text"])
        errors.extend([abs(inside[0].start - p["start"]), abs(inside[-1].end - p["end"])])
    # edges snap to the real onsets/offsets; tiny.en occasionally stretches one word into the pause
    assert float(np.median(errors)) < 0.05 and max(errors) < 0.5, errors
    assert sum(e < 0.1 for e in errors) >= len(errors) - 2, errors
    assert min(recalls.values()) >= 0.6, recalls
    total = sum(len(p["text"].split()) * recalls[p["topic"]] for p in talk_script["paragraphs"])
    assert total / sum(len(p["text"].split()) for p in talk_script["paragraphs"]) >= 0.85
    # no words invented in the silences between paragraphs
    for w in talk_transcript.words:
        mid = (w.start + w.end) / 2
        assert any(p["start"] - 0.4 <= mid <= p["end"] + 0.4 for p in talk_script["paragraphs"]), w


def test_key_phrases(talk_transcript: Transcript) -> None:
    text = " ".join(norm(w.text) for w in talk_transcript.words)
    for phrase in ("mistake almost every founder makes with pricing", "why sleep matters", "printing press",
                   "worst dinner party", "like and subscribe", "sponsored by", "where was i"):  # fmt: skip
        assert phrase in text, phrase


def test_window_transcription_shifts_times(talk_wav: Path, talk_transcript: Transcript, talk_script: dict) -> None:
    para = next(p for p in talk_script["paragraphs"] if p["topic"] == "printing press")
    offset, duration = para["start"] - 0.35, para["end"] - para["start"] + 0.7
    part = tr.transcribe(talk_wav, language="en", settings=SETTINGS, offset=offset, duration=duration)
    assert part.duration == pytest.approx(offset + duration, abs=0.01)
    assert all(offset <= w.start <= w.end <= offset + duration for w in part.words)
    assert abs(part.words[0].start - para["start"]) < 0.25 and abs(part.words[-1].end - para["end"]) < 0.25
    full = talk_transcript.words_between(offset, offset + duration)
    sm = difflib.SequenceMatcher(a=[norm(w.text) for w in full], b=[norm(w.text) for w in part.words])
    assert sm.ratio() > 0.9


def test_plan_chunks_cuts_in_silence(talk_wav: Path, talk_transcript: Transcript, talk_samples) -> None:
    chunks = tr.plan_chunks(talk_wav, 40.0)
    assert len(chunks) >= 3
    assert chunks[0][0] == 0.0 and chunks[-1][1] == pytest.approx(talk_transcript.duration, abs=1e-3)
    for (a0, a1), (b0, _) in itertools.pairwise(chunks):
        assert a1 == b0 and a1 > a0
    for _, cut in chunks[:-1]:
        assert round(cut * 16000) % tr.ALIGN_SAMPLES == 0  # on the VAD and mel grids
        assert not any(w.start < cut < w.end for w in talk_transcript.words), cut
        window = talk_samples[round((cut - 0.05) * 16000) : round((cut + 0.05) * 16000)]
        assert float(np.sqrt(np.mean(window**2))) < 0.003, cut  # silence in the audio itself
    for a, b in chunks:
        assert b - a <= 40.0 * 1.6
    assert tr.plan_chunks(talk_wav, 1000.0) == [(0.0, pytest.approx(talk_transcript.duration, abs=1e-3))]


def test_chunked_matches_single_pass(talk_transcript: Transcript, chunked_transcript) -> None:
    """Issue 4's long-media promise on the fixture: same words, timings within 0.1 s."""
    chunks, merged = chunked_transcript
    single = [norm(w.text) for w in talk_transcript.words]
    chunked = [norm(w.text) for w in merged.words]
    ratio = difflib.SequenceMatcher(a=single, b=chunked, autojunk=False).ratio()
    worst = max(max(abs(a.start - b.start), abs(a.end - b.end)) for a, b in zip(talk_transcript.words, merged.words))
    print(f"\nchunks={chunks} word-sequence ratio={ratio:.4f} max timing difference={worst:.3f} s")
    assert chunked == single
    assert worst <= 0.1
    assert merged.duration == talk_transcript.duration
    for a, b in zip(merged.words, merged.words[1:], strict=False):
        assert a.end <= b.start


def test_merge_transcripts_orders_and_dedupes() -> None:
    p1 = Transcript("en", 10.0, [Word("one", 1.0, 1.5), Word("two", 2.0, 2.5)])
    p2 = Transcript("en", 20.0, [Word("two", 2.1, 2.4), Word("three", 12.0, 12.5)])
    p3 = Transcript("en", 30.0, [Word("four", 22.0, 22.5)])
    merged = tr.merge_transcripts([p3, p1, p2])
    assert [w.text for w in merged.words] == ["one", "two", "three", "four"]
    assert merged.duration == 30.0
    with pytest.raises(NoSpeech):
        tr.merge_transcripts([])


def test_no_speech(no_speech_path: Path, tmp_path: Path) -> None:
    wav = extract_audio(no_speech_path, tmp_path / "noise.wav")
    with pytest.raises(NoSpeech):
        tr.transcribe(wav, language=None, settings=SETTINGS)
    silent = tmp_path / "silent.wav"
    with wave.open(str(silent), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 3)
    with pytest.raises(NoSpeech):
        tr.transcribe(silent, language=None, settings=SETTINGS)


def test_language_options(talk_wav: Path) -> None:
    english_model = load_settings(environ={}, whisper_model=tr.default_model_dir())  # tiny.en named explicitly
    with pytest.raises(InvalidOptions, match="English-only"):
        tr.transcribe(talk_wav, language="de", settings=english_model, offset=0.0, duration=7.0)
    with pytest.raises(InvalidOptions, match="unknown language"):
        tr.transcribe(talk_wav, language="xx", settings=SETTINGS, offset=0.0, duration=7.0)
    part = tr.transcribe(talk_wav, language="EN", settings=SETTINGS, offset=0.0, duration=7.0)
    assert part.language == "en" and "welcome" in " ".join(norm(w.text) for w in part.words)


def test_model_setting(talk_wav: Path) -> None:
    bundled = tr.default_model_dir()
    assert (Path(bundled) / "model.bin").is_file()
    by_dir = load_settings(environ={}, whisper_model=bundled)
    part = tr.transcribe(talk_wav, language=None, settings=by_dir, offset=0.0, duration=7.0)
    assert "channel" in " ".join(norm(w.text) for w in part.words)
    assert tr.get_model(bundled, "int8", 1) is tr.get_model(bundled, "int8", 1)  # cached per key
    t0 = time.monotonic()
    with pytest.raises(InvalidOptions, match="not available offline"):
        tr.transcribe(talk_wav, language=None, settings=load_settings(environ={}, whisper_model="small"))
    assert time.monotonic() - t0 < 30  # refused from the local cache, never downloaded
