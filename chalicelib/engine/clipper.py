"""Run every engine stage on one source: the command line's job, and the render unit the pipeline reuses.

Output is staged in a hidden folder beside `out_dir` and moved into place only when every clip has
rendered, so a failure leaves no partial output behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import Settings
from . import audio, captions, font_choice, ingest, layouts, probe, render, segment, topics, transcribe
from .errors import InvalidOptions
from .platforms import get_platforms, group_by_size, merged_safe_area
from .render import WatermarkSpec
from .score import assess_quality, score_candidates, select_clips
from .style import Style, resolve_style
from .tighten import Timeline, clip_timeline, retime_words
from .types import ClipOptions, CropPlan, LayoutKeyframe, MediaInfo, ScoredClip, Transcript, Word
from .watermark import fetch_watermark

STAGES: tuple[str, ...] = ("ingest", "transcribe", "segment", "score", "render")

ProgressCallback = Callable[[str, int, int], None]
"""progress(stage, done, total): called as each stage advances."""


@dataclass
class RenderJob:
    """One output file: clip `clip_index` at width x height, shared by `platforms`."""

    clip_index: int
    clip_id: str
    width: int
    height: int
    platforms: list[str]
    with_thumbnail: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "clip_index": self.clip_index,
            "clip_id": self.clip_id,
            "width": self.width,
            "height": self.height,
            "platforms": list(self.platforms),
            "with_thumbnail": self.with_thumbnail,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RenderJob:
        return cls(**data)


@dataclass
class RenderResult:
    video: Path
    width: int
    height: int
    duration: float
    platforms: list[str]
    thumbnail: Path | None = None
    layout: str = "crop"
    keyframes: list[LayoutKeyframe] = field(default_factory=list)  # the clip's layout decisions (output seconds)
    words: list[Word] | None = None  # the clip's words with speaker labels (output seconds)
    sentences: list[dict[str, Any]] = field(default_factory=list)  # {"text", "start", "end", "speaker"}
    source_ranges: list[tuple[float, float]] | None = None  # tightened clips: the kept source spans


def clip_id_for(source_digest: str, start: float, end: float, prompt: str | None = None) -> str:
    """A stable clip id: the same source span (and prompt) always gets the same id."""
    basis = f"{source_digest}:{start:.3f}:{end:.3f}:{prompt or ''}"
    return "clip_" + hashlib.sha256(basis.encode()).hexdigest()[:16]


def file_digest(path: Path, limit: int = 8 * 1024 * 1024) -> str:
    """sha256 of the file's size and first `limit` bytes (cheap identity for clip ids)."""
    h = hashlib.sha256(str(path.stat().st_size).encode())
    with path.open("rb") as fh:
        h.update(fh.read(limit))
    return h.hexdigest()


def plan_render_jobs(clip_ids: list[str], platform_names: list[str]) -> list[RenderJob]:
    """Clips x distinct output sizes; platforms sharing a size share one render."""
    groups = group_by_size(get_platforms(platform_names))
    jobs: list[RenderJob] = []
    for index, clip_id in enumerate(clip_ids):
        for n, ((width, height), platforms) in enumerate(groups.items()):
            jobs.append(
                RenderJob(index, clip_id, width, height, [p.name for p in platforms], with_thumbnail=n == 0)
            )
    return jobs


@dataclass
class PreparedRender:
    """A job's analysis done (crop plan, caption file, cut timeline): what the encode needs."""

    plan: CropPlan
    ass_path: Path | None
    timeline: Timeline
    watermark: WatermarkSpec | None = None
    framed: layouts.FramedClip | None = None


def as_style(style: Style | str) -> Style:
    """A Style, from a Style or a bare caption preset name (the legacy caption_style)."""
    if isinstance(style, Style):
        return style
    return resolve_style(None, None, style)


def _on_timeline(framed: layouts.FramedClip, timeline: Timeline, start: float) -> layouts.FramedClip:
    """The framing's words, sentences and keyframes (clip seconds) moved onto the cut timeline."""
    if not timeline.ranges:
        return framed
    ranges = timeline.ranges

    def out(t: float) -> float:
        return round(timeline.to_output(start + t, start), 3)

    words = retime_words([dataclasses.replace(w, start=w.start + start, end=w.end + start) for w in framed.words],
                         ranges)
    keyframes = [dataclasses.replace(k, start=out(k.start), end=out(k.end)) for k in framed.keyframes]
    sentences = [{**s, "start": out(float(s["start"])), "end": out(float(s["end"]))} for s in framed.sentences]
    return dataclasses.replace(framed, words=words, keyframes=[k for k in keyframes if k.end > k.start],
                               sentences=sentences)


def prepare_render(
    source: Path | str, clip: ScoredClip, transcript: Transcript, job: RenderJob, style: Style | str, out_dir: Path,
    *, settings: Settings, layout: str = "auto", keyframes: list[LayoutKeyframe] | None = None,
    layout_spans: list[tuple[float, float, str]] | None = None, watermark: Path | None = None,
) -> PreparedRender:
    """Reframe analysis, speaker labels, layout, the cut timeline and the captions file for one job (no encoding).

    `keyframes` (clip seconds, e.g. edited ones) replace the layout decisions the analysis would make;
    `layout_spans` [(start, end, layout)] (clip seconds) show each span in its own layout;
    `watermark` is the style's logo image, already fetched to a local file. The crop plan stays on the
    source timeline (the cut is applied after framing); words, sentences and keyframes are reported on the
    cut timeline.
    """
    style = as_style(style)
    out_dir.mkdir(parents=True, exist_ok=True)
    start, end = clip.candidate.start, clip.candidate.end
    framed = layouts.frame_clip(
        source, start, end, job.width, job.height, transcript.clip_words(start, end), layout, settings=settings,
        keyframes=keyframes, layout_spans=layout_spans,
    )
    timeline = clip_timeline(transcript, start, end, style.tighten)
    safe = merged_safe_area(get_platforms(job.platforms))
    ass_path = captions.write_ass(
        timeline.words, style, job.width, job.height, safe,
        out_dir / f"{job.clip_id}_{job.width}x{job.height}.ass", title=clip.title,
    )
    if ass_path is not None:
        cut = (lambda t: timeline.to_output(start + t, start)) if timeline.ranges else None
        layouts.captions_between_panes(ass_path, framed.plan, to_output=cut)
    logo = None
    if watermark is not None and style.watermark is not None:
        wm = style.watermark
        logo = WatermarkSpec(watermark, wm.corner, wm.scale, wm.opacity, safe)
    return PreparedRender(framed.plan, ass_path, timeline, logo, _on_timeline(framed, timeline, start))


def encode_render(
    source: Path | str, clip: ScoredClip, job: RenderJob, prepared: PreparedRender, out_dir: Path, *, settings: Settings
) -> RenderResult:
    """The one ffmpeg run for a prepared job (its thumbnail, when the job asks, is a second output of it)."""
    video = out_dir / f"{job.clip_id}_{job.width}x{job.height}.mp4"
    thumbnail = out_dir / f"{job.clip_id}.jpg" if job.with_thumbnail else None
    try:
        rendered = render.render_clip(
            source, clip.candidate.start, clip.candidate.end, prepared.plan, prepared.ass_path, video,
            settings=settings, keep_ranges=prepared.timeline.ranges, watermark=prepared.watermark,
            thumbnail=thumbnail, thumbnail_at=min(1.0, prepared.timeline.duration / 2),
        )
    finally:
        if prepared.ass_path is not None:
            prepared.ass_path.unlink(missing_ok=True)
    return RenderResult(
        video=video,
        width=rendered.width,
        height=rendered.height,
        duration=rendered.duration,
        platforms=list(job.platforms),
        thumbnail=thumbnail,
        layout=prepared.plan.layout,
        keyframes=list(prepared.framed.keyframes) if prepared.framed else [],
        words=prepared.framed.words if prepared.framed else None,
        sentences=list(prepared.framed.sentences) if prepared.framed else [],
        source_ranges=prepared.timeline.ranges,
    )


def render_one(
    source: Path | str,
    clip: ScoredClip,
    transcript: Transcript,
    job: RenderJob,
    style: Style | str,
    out_dir: Path,
    *,
    settings: Settings,
    layout: str = "auto",
    keyframes: list[LayoutKeyframe] | None = None,
    layout_spans: list[tuple[float, float, str]] | None = None,
    watermark: Path | None = None,
) -> RenderResult:
    """Frame, caption and encode one clip at one size (and its thumbnail when the job asks)."""
    prepared = prepare_render(
        source, clip, transcript, job, style, out_dir, settings=settings, layout=layout, keyframes=keyframes,
        layout_spans=layout_spans, watermark=watermark,
    )
    return encode_render(source, clip, job, prepared, out_dir, settings=settings)


def render_all(
    source: Path,
    clips: list[ScoredClip],
    transcript: Transcript,
    jobs: list[RenderJob],
    style: Style | str,
    out_dir: Path,
    *,
    settings: Settings,
    progress: ProgressCallback,
    layout: str = "auto",
    watermark: Path | None = None,
) -> dict[int, list[RenderResult]]:
    """Every job in order, analysing job i+1 on a helper thread while ffmpeg encodes job i."""
    results: dict[int, list[RenderResult]] = {}

    def prepare(job: RenderJob) -> PreparedRender:
        return prepare_render(
            source, clips[job.clip_index], transcript, job, style, out_dir, settings=settings, layout=layout,
            watermark=watermark,
        )

    progress("render", 0, len(jobs))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reframe") as pool:
        pending: list[Future[PreparedRender]] = [pool.submit(prepare, jobs[0])] if jobs else []
        for done, job in enumerate(jobs, start=1):
            if done < len(jobs):
                pending.append(pool.submit(prepare, jobs[done]))  # analysed while this job encodes
            prepared = pending.pop(0).result()
            result = encode_render(source, clips[job.clip_index], job, prepared, out_dir, settings=settings)
            results.setdefault(job.clip_index, []).append(result)
            progress("render", done, len(jobs))
    return results


def clip_summary(
    clip_id: str, clip: ScoredClip, transcript: Transcript, results: list[RenderResult], style: Style | None = None
) -> dict[str, Any]:
    """A clip in the webhook's shape (download_url = local path) plus the engine's details.

    Tightened clips report the cut timeline (duration, word times) and the kept `source_ranges`."""
    start, end = clip.candidate.start, clip.candidate.end
    primary = results[0]
    timeline = clip_timeline(transcript, start, end, style.tighten if style else None)
    words = primary.words if primary.words is not None else timeline.words
    platforms: dict[str, dict[str, Any]] = {}
    for result in results:
        for name in result.platforms:
            platforms[name] = {"width": result.width, "height": result.height, "download_url": str(result.video)}
    thumbnail = next((r.thumbnail for r in results if r.thumbnail), None)
    summary: dict[str, Any] = {
        "id": clip_id,
        "title": clip.title,
        "virality_score": clip.virality_score,
        "duration_seconds": round(timeline.duration, 2),
        "download_url": str(primary.video),
        "platforms": platforms,
        "start": round(start, 3),
        "end": round(end, 3),
        "source_ranges": [[round(start, 3), round(end, 3)]],
        "sub_scores": clip.sub_scores.to_dict(),
        "reason": clip.reason,
        "description": clip.description,
        "hashtags": list(clip.hashtags),
        "thumbnail_url": str(thumbnail) if thumbnail else None,
        "layout": primary.layout,
        "layout_keyframes": [k.to_dict() for k in primary.keyframes],
        "transcript": {
            "text": " ".join(w.text for w in words),
            "words": [w.to_dict() for w in words],
            "sentences": list(primary.sentences),
        },
        "quotes": clip.clip_quotes(transcript),
    }
    if timeline.ranges is not None:
        summary["source_ranges"] = [[round(a, 3), round(b, 3)] for a, b in timeline.ranges]
    if clip.prompt is not None:
        summary["prompt"] = clip.prompt
        summary["relevance"] = clip.relevance
    return summary


def _noop_progress(stage: str, done: int, total: int) -> None:
    return None


def run_clipper(
    source: str,
    options: ClipOptions,
    out_dir: Path,
    *,
    settings: Settings,
    progress: ProgressCallback | None = None,
    prompt: str | None = None,
    export_formats: list[str] | None = None,
    style: Style | None = None,
) -> dict[str, Any]:
    """Every stage, source to clips; returns the manifest (also written to out_dir/manifest.json).

    `export_formats` (otio, fcpxml, fcp7xml, edl, srt, vtt, ass) are written beside the manifest too.
    `style` (captions, hook title, watermark, tightening) renders every clip; its preset defaults to
    options.caption_style. A watermark `url` may be an http(s) URL (guarded) or a local path.
    """
    options.validate()
    resolved = resolve_style(style.to_dict() if style else None, None, options.caption_style)
    report = progress or _noop_progress
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    work = Path(tempfile.mkdtemp(prefix="klipstar-work-", dir=settings.work_dir or None))
    try:
        report("ingest", 0, 1)
        src = ingest.fetch_source(source, work / "source", settings=settings)
        info: MediaInfo = probe.probe(src, probe.SourceCaps.from_settings(settings))
        probe.check_talk(info, options.min_duration, settings.max_source_seconds)
        logo = None
        if resolved.watermark is not None:
            if not resolved.watermark.url:
                raise InvalidOptions("style.watermark.upload_id needs the API; give style.watermark.url here")
            logo = fetch_watermark(resolved.watermark.url, work / "watermark", settings=settings)
        report("ingest", 1, 1)

        report("transcribe", 0, 1)
        wav = audio.extract_audio(src, work / "audio.wav")
        transcript = transcribe.transcribe(wav, language=options.language, settings=settings)
        if resolved.preset != "none":
            font_choice.caption_font(transcript.text, resolved.captions.font)  # language_unsupported, before rendering
        report("transcribe", 1, 1)

        report("segment", 0, 1)
        sentences = segment.split_sentences(transcript)
        candidates = segment.candidates_for(transcript, sentences, options)
        transcript.chapters = topics.segment_topics(sentences)
        report("segment", 1, 1)

        report("score", 0, 1)
        reason: str | None = None
        if prompt:
            from .prompt_search import find_moments

            chosen, reason = find_moments(
                transcript,
                sentences,
                prompt,
                options.max_clips,
                options.min_duration,
                options.effective_max_duration,
                settings=settings,
            )
        else:
            scored = score_candidates(transcript, sentences, candidates, wav, settings=settings)
            chosen = select_clips(scored, options.max_clips)
        report("score", 1, 1)

        digest = file_digest(src)
        clip_ids = [clip_id_for(digest, c.candidate.start, c.candidate.end, prompt) for c in chosen]
        jobs = plan_render_jobs(clip_ids, options.platforms)
        results = render_all(
            src, chosen, transcript, jobs, resolved, staging, settings=settings, progress=report,
            layout=options.layout, watermark=logo,
        )

        clips = [
            clip_summary(clip_ids[i], chosen[i], transcript, results[i], resolved) for i in range(len(chosen))
        ]
        manifest: dict[str, Any] = {
            "source": source,
            "media": {k: v for k, v in info.to_dict().items() if k != "path"},
            "language": transcript.language,
            "options": options.to_dict(),
            "style": resolved.to_dict(),
            "prompt": prompt,
            "reason": reason,
            "chapters": [c.public() for c in transcript.chapters],
            "quality": None if prompt else assess_quality(chosen),
            "clips": clips,
        }
        if export_formats:
            manifest["exports"] = _exports(staging, export_formats, source, info, clips, options)
        return _publish(staging, out_dir, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _exports(staging: Path, formats: list[str], source: str, info: MediaInfo, clips: list[dict[str, Any]],
             options: ClipOptions) -> dict[str, Any]:
    """Editor exports of the clips (timeline and captions) into the staging folder."""
    from . import exports

    url = source if "://" in source else Path(source).resolve().as_uri()
    name = Path(source.split("?", 1)[0]).name or "source"
    media = exports.ExportMedia(name=name, url=url, duration=info.duration, fps=info.fps)
    platforms = get_platforms(options.platforms)
    first = [p for p in platforms if p.size == platforms[0].size]
    return exports.write_exports(
        staging, formats, name, media, clips, caption_style=options.caption_style, width=first[0].width,
        height=first[0].height, safe_area=merged_safe_area(first),
    )


def _publish(staging: Path, out_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Move staged files into out_dir, rewriting manifest paths to their final place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    moved: dict[str, str] = {}
    for path in sorted(staging.iterdir()):
        target = out_dir / path.name
        path.replace(target)
        moved[str(path)] = str(target)

    def relocate(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [relocate(v) for v in value]
        return moved.get(value, value) if isinstance(value, str) else value

    final = relocate(manifest)
    tmp = out_dir / ".manifest.json.tmp"
    tmp.write_text(json.dumps(final, indent=2))
    tmp.replace(out_dir / "manifest.json")
    shutil.rmtree(staging, ignore_errors=True)
    return final
