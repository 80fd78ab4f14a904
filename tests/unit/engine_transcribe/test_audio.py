"""extract_audio/load_wav on the fixture and on bad media."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from chalicelib.engine.audio import extract_audio, load_wav
from chalicelib.engine.errors import CorruptMedia, NoAudioStream


def test_talk_wav_format(talk_wav: Path, talk_script: dict, talk_samples) -> None:
    with wave.open(str(talk_wav), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert abs(w.getnframes() / 16000 - talk_script["duration"]) < 0.05
    assert talk_samples.dtype == np.float32 and talk_samples.ndim == 1
    assert 0.1 < float(np.abs(talk_samples).max()) <= 1.0
    # speech where the script says, silence in the gaps
    for p in talk_script["paragraphs"][:4]:
        mid = (p["start"] + p["end"]) / 2
        assert np.sqrt(np.mean(talk_samples[int((mid - 0.5) * 16000) : int((mid + 0.5) * 16000)] ** 2)) > 0.02
        gap = p["end"] + 0.35
        assert np.abs(talk_samples[int((gap - 0.1) * 16000) : int((gap + 0.1) * 16000)]).max() < 0.01


def test_load_wav_stereo_is_averaged(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    left = (np.sin(np.arange(1600) / 10) * 10000).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.stack([left, np.zeros_like(left)], axis=1).tobytes())
    samples, sr = load_wav(path)
    assert sr == 16000 and samples.shape == (1600,)
    assert np.allclose(samples, left / 32768.0 / 2, atol=1e-6)


def test_no_audio_stream(no_audio_path: Path, tmp_path: Path) -> None:
    with pytest.raises(NoAudioStream):
        extract_audio(no_audio_path, tmp_path / "out.wav")
    assert list(tmp_path.iterdir()) == []


def test_not_media_and_truncated(not_media_path: Path, tmp_path: Path) -> None:
    with pytest.raises(CorruptMedia):
        extract_audio(not_media_path, tmp_path / "out.wav")
    assert list(tmp_path.iterdir()) == []


def test_audio_only_source(audio_only_path: Path, tmp_path: Path, talk_script: dict) -> None:
    wav = extract_audio(audio_only_path, tmp_path / "a.wav")
    samples, sr = load_wav(wav)
    assert sr == 16000 and abs(len(samples) / sr - talk_script["duration"]) < 0.05
