"""Audio extraction: any media file -> 16 kHz mono 16-bit WAV (what faster-whisper wants)."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np

from .errors import CorruptMedia, NoAudioStream
from .ffmpeg import ffmpeg_exe

SAMPLE_RATE = 16000


def extract_audio(src: Path, wav: Path, *, timeout: float | None = None) -> Path:
    """Decode `src`'s first audio stream to a 16 kHz mono s16 WAV at `wav` (written to a temp, then renamed)."""
    src, wav = Path(src), Path(wav)
    wav.parent.mkdir(parents=True, exist_ok=True)
    tmp = wav.with_name(f".{wav.name}.part.wav")
    cmd = [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-i", str(src), "-map", "0:a:0", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-c:a", "pcm_s16le", "-f", "wav", str(tmp),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        tmp.unlink(missing_ok=True)
        raise CorruptMedia(f"audio extraction from {src.name} timed out") from None
    if proc.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
        tmp.unlink(missing_ok=True)
        err = proc.stderr.decode(errors="replace")
        tail = err.strip().splitlines()[-1:] or ["no output"]
        if "matches no streams" in err:
            raise NoAudioStream(f"{src.name} has no audio stream")
        raise CorruptMedia(f"could not decode the audio of {src.name}: {tail[0][:200]}")
    tmp.replace(wav)
    return wav


def load_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a 16-bit PCM WAV as float32 samples in [-1, 1] (mono: channels are averaged) and its rate."""
    with wave.open(str(path), "rb") as w:
        sr = w.getframerate()
        channels = w.getnchannels()
        if w.getsampwidth() != 2:
            raise CorruptMedia(f"{Path(path).name} is not 16-bit PCM")
        raw = w.readframes(w.getnframes())
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32), sr
