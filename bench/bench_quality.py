"""Clip-quality benchmark: the engine's picks on labelled talks, next to a random and a "first N minutes" baseline.

The talks come from scripts/make_quality_talks.py (espeak-ng, several voices, rates, topic orders; the
labels are written by the generator). Each talk is transcribed with the configured whisper model and
run through the same stages as `klipstar clip`: sentences, candidates, local scoring and selection of
the top clips, topic chapters, and prompt search (max_clips 1) for every labelled prompt. Metrics
(chalicelib/engine/evaluation.py):

- top-3 hook precision: share of the 3 best clips holding a planted hook sentence;
- filler rate in the top 5: share of the 5 best clips holding >= 3 s of planted filler;
- prompt recall@1 (IoU >= 0.5) and mean IoU of the prompt clip against its target topic;
- boundary error: mean |start - topic start| and |end - topic end| of the prompt clips, seconds;
- cuts in pauses: share of the cut points of every clip above that fall outside spoken sentences;
- chapter F1: chapter boundaries against the true topic boundaries within 3 s.

Baselines, with the same clip count and lengths: "random" (clips of the mean engine length at uniform
random non-overlapping positions, prompt answers at random, as many chapter boundaries as the engine
found at random times; the mean of RANDOM_DRAWS seeded draws) and "first N minutes" (consecutive clips
from the start of the talk, every prompt answered with the first clip, chapters every 60 s).

    python bench/bench_quality.py            # makes the talks into bench/media/quality once, then measures
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from chalicelib.engine import audio, evaluation, segment, topics, transcribe  # noqa: E402
from chalicelib.engine.prompt_search import find_moments  # noqa: E402
from chalicelib.engine.score import assess_quality, score_candidates, select_clips  # noqa: E402
from chalicelib.engine.types import ClipOptions, Transcript  # noqa: E402
from chalicelib.settings import Settings, get_settings  # noqa: E402

MEDIA = ROOT / "bench" / "media" / "quality"
RESULTS = ROOT / "bench" / "results"
RANDOM_DRAWS = 200
FIRST_N_CHAPTER_SECONDS = 60.0
TOP_HOOK, TOP_FILLER = 3, 5

Span = tuple[float, float]


def labelled_talks(media: Path) -> dict[str, Any]:
    """The labels (making the talks first when they are missing or out of date)."""
    import make_quality_talks

    labels_path = media / "labels.json"
    if labels_path.is_file():
        labels = json.loads(labels_path.read_text())
        if labels.get("version") == make_quality_talks.LABELS_VERSION and all(
            (media / t["audio"]).is_file() for t in labels["talks"]
        ) and len(labels["talks"]) == len(make_quality_talks.TALKS):
            return labels
    return make_quality_talks.make_all(media)


def truth_of(talk: dict[str, Any]) -> dict[str, Any]:
    """Spans the metrics need, from one talk's labels."""
    sections = talk["sections"]
    topic_span = {s["name"]: (s["start"], s["end"]) for s in sections if s["kind"] == "topic"}
    # True chapter boundaries: where each topic starts, and where the outro starts.
    bounds = [s["start"] for s in sections if s["kind"] == "topic"] + [sections[-1]["start"]]
    return {
        "hooks": [(h["start"], h["end"]) for h in talk["hooks"]],
        "filler": [(s["start"], s["end"]) for s in sections if s["kind"] == "filler"],
        "speech": [tuple(s) for s in talk["speech"]],
        "prompts": [(p["prompt"], topic_span[p["topic"]]) for p in talk["prompts"]],
        "boundaries": bounds,
    }


def cached_transcript(wav: Path, settings: Settings, reuse: bool) -> Transcript:
    """The talk's transcript, kept beside the audio per model settings (reused with --reuse-transcripts)."""
    key = f"{settings.whisper_model or 'tiny.en'}-{settings.whisper_compute_type}-b{settings.whisper_beam_size}"
    cache = wav.with_name(f"{wav.stem}.{key.replace('/', '_')}.transcript.json")
    if reuse and cache.is_file():
        return Transcript.from_dict(json.loads(cache.read_text()))
    transcript = transcribe.transcribe(wav, language="en", settings=settings)
    cache.write_text(json.dumps(transcript.to_dict()))
    return transcript


def engine_picks(
    wav: Path, options: ClipOptions, prompts: Sequence[str], settings: Settings, reuse: bool = False
) -> dict[str, Any]:
    """Top clips, chapters and one prompt answer per prompt, from the engine."""
    t0 = time.perf_counter()
    transcript = cached_transcript(wav, settings, reuse)
    t1 = time.perf_counter()
    sentences = segment.split_sentences(transcript)
    candidates = segment.candidates_for(transcript, sentences, options)
    transcript.chapters = topics.segment_topics(sentences)
    scored = score_candidates(transcript, sentences, candidates, wav, settings=settings)
    chosen = select_clips(scored, TOP_FILLER)
    top = [(c.candidate.start, c.candidate.end) for c in chosen]
    answers: list[Span | None] = []
    for prompt in prompts:
        found, _ = find_moments(transcript, sentences, prompt, 1, options.min_duration,
                                options.effective_max_duration, settings=settings)
        answers.append((found[0].candidate.start, found[0].candidate.end) if found else None)
    return {
        "top": top,
        "answers": answers,
        "chapters": [c.start for c in transcript.chapters[1:]],
        "scores": [(c.candidate.start, c.candidate.end, c.virality_score) for c in scored],
        "quality": assess_quality(chosen),
        "transcribe_seconds": t1 - t0,
        "analyse_seconds": time.perf_counter() - t1,
    }


def _random_spans(rng: random.Random, duration: float, length: float, count: int) -> list[Span]:
    spans: list[Span] = []
    for _ in range(count * 50):
        if len(spans) == count:
            break
        start = rng.uniform(0.0, max(0.0, duration - length))
        span = (start, start + length)
        if all(evaluation.overlap(span, s) == 0 for s in spans):
            spans.append(span)
    return spans


def random_picks(rng: random.Random, duration: float, length: float, n_prompts: int, n_bounds: int) -> dict[str, Any]:
    return {
        "top": _random_spans(rng, duration, length, TOP_FILLER),
        "answers": [_random_spans(rng, duration, length, 1)[0] for _ in range(n_prompts)],
        "chapters": sorted(rng.uniform(0.0, duration) for _ in range(n_bounds)),
    }


def first_minutes_picks(duration: float, length: float, n_prompts: int) -> dict[str, Any]:
    top = [(i * length, (i + 1) * length) for i in range(TOP_FILLER) if (i + 1) * length <= duration]
    return {
        "top": top,
        "answers": [top[0]] * n_prompts,
        "chapters": [t * FIRST_N_CHAPTER_SECONDS for t in range(1, int(duration // FIRST_N_CHAPTER_SECONDS) + 1)],
    }


def metrics(picks: dict[str, Any], truth: dict[str, Any]) -> dict[str, float | None]:
    """Every metric of one talk's picks."""
    targets = [span for _, span in truth["prompts"]]
    cuts = list(picks["top"]) + [a for a in picks["answers"] if a is not None]
    return {
        "hook_precision_top3": evaluation.hook_precision(picks["top"][:TOP_HOOK], truth["hooks"]),
        "filler_rate_top5": evaluation.filler_rate(picks["top"][:TOP_FILLER], truth["filler"]),
        "prompt_recall_at_1": evaluation.recall_at_iou(picks["answers"], targets, 0.5),
        "prompt_mean_iou": evaluation.mean_iou(picks["answers"], targets),
        "boundary_error_s": evaluation.boundary_error(picks["answers"], targets),
        "cuts_in_pauses": evaluation.share_in_pauses(cuts, truth["speech"]),
        "chapter_f1": evaluation.boundary_f1(picks["chapters"], truth["boundaries"], 3.0)[2],
    }


def pooled(per_talk: Sequence[dict[str, float | None]]) -> dict[str, float | None]:
    """The mean of each metric over the talks (ignoring talks where it is undefined)."""
    out: dict[str, float | None] = {}
    for key in per_talk[0]:
        vals = [m[key] for m in per_talk if m[key] is not None]
        out[key] = statistics.fmean(vals) if vals else None
    return out


def mean_of_draws(draw: Callable[[random.Random], dict[str, float | None]], draws: int) -> dict[str, float | None]:
    rng = random.Random(1234)
    return pooled([draw(rng) for _ in range(draws)])


LABELS = {
    "hook_precision_top3": ("top-3 hook precision", "higher"),
    "filler_rate_top5": ("filler rate in top 5", "lower"),
    "prompt_recall_at_1": ("prompt recall@1 (IoU >= 0.5)", "higher"),
    "prompt_mean_iou": ("prompt mean IoU", "higher"),
    "boundary_error_s": ("prompt boundary error (s)", "lower"),
    "cuts_in_pauses": ("cuts in pauses", "higher"),
    "chapter_f1": ("chapter boundary F1 (3 s)", "higher"),
}


SCORE_BANDS = ((80, 101), (60, 80), (40, 60), (0, 40))


def score_bands(talks: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """What a score means on the labelled talks: per band, how many candidates and what they hold."""
    rows = ["| virality score | candidates | hold a planted hook | hold >= 3 s of filler | talks with one |",
            "| --- | --- | --- | --- | --- |"]
    total = sum(len(p["scores"]) for p, _ in talks)
    for lo, hi in SCORE_BANDS:
        spans = [((s, e), truth) for p, truth in talks for s, e, v in p["scores"] if lo <= v < hi]
        per_talk = sum(any(lo <= v < hi for _, _, v in p["scores"]) for p, _ in talks)
        n = len(spans)
        hooks = sum(evaluation.hook_precision([span], t["hooks"]) for span, t in spans)
        filler = sum(evaluation.filler_rate([span], t["filler"]) for span, t in spans)
        share = f"{100 * hooks / n:.0f} % | {100 * filler / n:.0f} %" if n else "n/a | n/a"
        rows.append(f"| {lo}-{min(hi - 1, 100)} | {n} ({100 * n / max(1, total):.0f} %) | {share} | "
                    f"{per_talk} of {len(talks)} |")
    return "\n".join(rows)


def table(engine: dict, rnd: dict, first: dict) -> str:
    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    rows = ["| metric | engine | random | first N minutes | better |", "| --- | --- | --- | --- | --- |"]
    for key, (label, better) in LABELS.items():
        rows.append(f"| {label} | **{fmt(engine[key])}** | {fmt(rnd[key])} | {fmt(first[key])} | {better} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--media", type=Path, default=MEDIA, help="where the labelled talks are (made if missing)")
    ap.add_argument("--min-duration", type=float, default=15.0)
    ap.add_argument("--max-duration", type=float, default=60.0)
    ap.add_argument("--reuse-transcripts", action="store_true",
                    help="reuse the transcripts of an earlier run (to measure scoring changes quickly)")
    args = ap.parse_args(argv)
    settings = get_settings()
    options = ClipOptions(min_duration=args.min_duration, max_duration=args.max_duration).validate()
    labels = labelled_talks(args.media)
    engine_rows, random_rows, first_rows, details, scored_talks = [], [], [], [], []
    for talk in labels["talks"]:
        truth = truth_of(talk)
        wav = audio.extract_audio(args.media / talk["audio"], args.media / f".{talk['audio']}.16k.wav")
        picks = engine_picks(wav, options, [p for p, _ in truth["prompts"]], settings, args.reuse_transcripts)
        lengths = [e - s for s, e in picks["top"]] or [options.min_duration]
        length = statistics.fmean(lengths)
        n_prompts, n_bounds = len(truth["prompts"]), max(1, len(picks["chapters"]))
        engine_rows.append(metrics(picks, truth))
        scored_talks.append((picks, truth))
        random_rows.append(mean_of_draws(
            lambda rng, talk=talk, truth=truth, length=length, n_prompts=n_prompts, n_bounds=n_bounds: metrics(
                random_picks(rng, talk["duration"], length, n_prompts, n_bounds), truth),
            RANDOM_DRAWS,
        ))
        first_rows.append(metrics(first_minutes_picks(talk["duration"], length, n_prompts), truth))
        details.append({"audio": talk["audio"], "voice": talk["voice"], "wpm": talk["wpm"], "picks": picks,
                        "metrics": engine_rows[-1]})
        print(f"{talk['audio']} ({talk['voice']}, {talk['wpm']} wpm, {talk['duration']:.0f} s): "
              f"transcribed in {picks['transcribe_seconds']:.1f} s, analysed in {picks['analyse_seconds']:.1f} s; "
              + ", ".join(f"{k} {'n/a' if v is None else round(v, 2)}" for k, v in engine_rows[-1].items()))
    engine, rnd, first = pooled(engine_rows), pooled(random_rows), pooled(first_rows)
    segments = sum(len(t["sections"]) + len(t["hooks"]) + len(t["prompts"]) for t in labels["talks"])
    model = settings.whisper_model or "tiny.en (bundled)"
    header = (
        f"{datetime.now(UTC):%Y-%m-%d}: {len(labels['talks'])} talks, "
        f"{sum(t['duration'] for t in labels['talks']) / 60:.1f} min, {segments} labelled segments; "
        f"whisper {model}, {settings.whisper_compute_type}, beam {settings.whisper_beam_size}; scorer "
        f"{settings.scorer}; clips {options.min_duration:g}-{options.max_duration:g} s"
    )
    print()
    print(header)
    print(table(engine, rnd, first))
    print()
    print(score_bands(scored_talks))
    print("best score per talk:", [max(v for _, _, v in p["scores"]) for p, _ in scored_talks],
          "quality:", [p["quality"]["level"] for p, _ in scored_talks])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quality.json").write_text(json.dumps(
        {"header": header, "engine": engine, "random": rnd, "first_minutes": first, "talks": details}, indent=1
    ) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
