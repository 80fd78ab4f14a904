"""Plain data passed between engine stages. Every type round-trips through JSON (to_dict/from_dict)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from .errors import InvalidOptions
from .platforms import DEFAULT_PLATFORMS, get_platforms

T = TypeVar("T")

CAPTION_STYLES: tuple[str, ...] = ("karaoke", "bold", "minimal", "pop", "boxed", "none")
LAYOUTS: tuple[str, ...] = ("auto", "focus", "split", "fit")
MAX_CLIPS_LIMIT = 50


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class MediaInfo:
    """What PyAV found in a source file."""

    path: str
    size_bytes: int
    duration: float
    format_name: str
    has_video: bool
    has_audio: bool
    width: int = 0  # display width, after rotation
    height: int = 0  # display height, after rotation
    rotation: int = 0  # degrees clockwise the player must rotate the stored frames
    fps: float = 0.0
    video_codec: str = ""
    audio_codec: str = ""
    audio_sample_rate: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        return _from_dict(cls, data)


@dataclass
class Word:
    text: str
    start: float
    end: float
    probability: float = 1.0
    speaker: str | None = None  # "S1", "S2", ... (clip transcripts; people on screen, left to right)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "start": self.start, "end": self.end, "probability": self.probability}
        if self.speaker is not None:
            out["speaker"] = self.speaker
        return out


@dataclass
class Chapter:
    """Sentences[first_sentence:last_sentence + 1] of the transcript about one topic."""

    start: float
    end: float
    first_sentence: int
    last_sentence: int
    title: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chapter:
        return cls(
            start=float(data["start"]), end=float(data["end"]), first_sentence=int(data["first_sentence"]),
            last_sentence=int(data["last_sentence"]), title=str(data.get("title", "")),
        )

    def public(self) -> dict[str, Any]:
        """What the API and the manifest show: start, end, title."""
        return {"start": round(self.start, 3), "end": round(self.end, 3), "title": self.title}


@dataclass
class Transcript:
    """Words with timings, in source seconds (and, once segmented, its topic chapters)."""

    language: str
    duration: float
    words: list[Word] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text.strip() for w in self.words).strip()

    def words_between(self, start: float, end: float) -> list[Word]:
        return [w for w in self.words if w.start >= start - 1e-6 and w.end <= end + 1e-6]

    def clip_words(self, start: float, end: float) -> list[Word]:
        """The words inside [start, end], re-timed to clip seconds (0 = start)."""
        return [
            Word(w.text.strip(), round(w.start - start, 3), round(w.end - start, 3), w.probability, w.speaker)
            for w in self.words_between(start, end)
        ]

    def word_range(self, start: float, end: float) -> tuple[int, int]:
        """(first, last) indexes of the words inside [start, end]; first > last when there are none."""
        inside = [i for i, w in enumerate(self.words) if w.start >= start - 1e-6 and w.end <= end + 1e-6]
        return (inside[0], inside[-1]) if inside else (0, -1)

    def with_fixes(self, fixes: dict[str, str] | None) -> Transcript:
        """A copy whose words at the given indexes (str keys) carry corrected text; timings are kept."""
        if not fixes:
            return self
        words = [dataclasses.replace(w, text=fixes.get(str(i), w.text)) for i, w in enumerate(self.words)]
        return Transcript(self.language, self.duration, words, list(self.chapters))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "language": self.language, "duration": self.duration, "words": [w.to_dict() for w in self.words]
        }
        if self.chapters:
            out["chapters"] = [c.to_dict() for c in self.chapters]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Transcript:
        return cls(
            language=data["language"],
            duration=float(data["duration"]),
            words=[_from_dict(Word, w) for w in data.get("words", [])],
            chapters=[Chapter.from_dict(c) for c in data.get("chapters") or []],
        )


@dataclass
class Sentence:
    """A sentence: words[first_word:last_word + 1] of the transcript."""

    text: str
    start: float
    end: float
    first_word: int
    last_word: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Candidate:
    """A candidate clip spanning sentences[first_sentence:last_sentence + 1]."""

    start: float
    end: float
    first_sentence: int
    last_sentence: int
    text: str

    @property
    def duration(self) -> float:
        return self.end - self.start

    def overlaps(self, other: Candidate) -> bool:
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return _from_dict(cls, data)


@dataclass
class SubScores:
    """Each 0-100."""

    hook: float
    emotion: float
    value: float
    self_contained: float
    pacing: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 1) for k, v in dataclasses.asdict(self).items()}


@dataclass
class ScoredClip:
    """A candidate with its virality score and the words a viewer sees (title, description, hashtags)."""

    candidate: Candidate
    virality_score: int
    sub_scores: SubScores
    reason: str
    title: str
    description: str
    hashtags: list[str]
    is_filler: bool = False
    relevance: float | None = None  # prompt clipping only
    prompt: str | None = None
    # The spans that drove sub-scores: {"drives", "first_word", "last_word" (transcript word indexes),
    # "start", "end" (source seconds), "text"}.
    quotes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate.to_dict(),
            "virality_score": self.virality_score,
            "sub_scores": self.sub_scores.to_dict(),
            "reason": self.reason,
            "title": self.title,
            "description": self.description,
            "hashtags": list(self.hashtags),
            "is_filler": self.is_filler,
            "relevance": self.relevance,
            "prompt": self.prompt,
            "quotes": [dict(q) for q in self.quotes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoredClip:
        return cls(
            candidate=Candidate.from_dict(data["candidate"]),
            virality_score=int(data["virality_score"]),
            sub_scores=_from_dict(SubScores, data["sub_scores"]),
            reason=data["reason"],
            title=data["title"],
            description=data["description"],
            hashtags=list(data["hashtags"]),
            is_filler=bool(data.get("is_filler", False)),
            relevance=data.get("relevance"),
            prompt=data.get("prompt"),
            quotes=[dict(q) for q in data.get("quotes") or []],
        )

    def clip_quotes(self, transcript: Transcript) -> list[dict[str, Any]]:
        """The quotes as the API shows them: word indexes into the clip's transcript words, clip seconds."""
        start, end = self.candidate.start, self.candidate.end
        first = next((i for i, w in enumerate(transcript.words) if w.start >= start - 1e-6), 0)
        out = []
        for q in self.quotes:
            if not (start - 1e-6 <= q["start"] and q["end"] <= end + 1e-6):
                continue
            out.append({
                "drives": q["drives"], "first_word": int(q["first_word"]) - first,
                "last_word": int(q["last_word"]) - first, "start": round(q["start"] - start, 3),
                "end": round(q["end"] - start, 3), "text": q["text"],
            })
        return out


@dataclass
class CropSegment:
    """From t0 to t1 (clip seconds) the crop window's left/top edge moves linearly from (x0,y0) to (x1,y1).

    Coordinates are in source display pixels; the window size is CropPlan.crop_w x crop_h.
    layout "fit" marks a shot without a face inside a crop plan: that span is shown whole over a blur.
    layout "split" shows two still crop windows `panes` ([x, y, w, h] source pixels each) stacked (portrait
    and square outputs) or side by side (landscape).
    """

    t0: float
    t1: float
    x0: float
    y0: float
    x1: float
    y1: float
    layout: Literal["crop", "fit", "split"] = "crop"
    panes: list[list[float]] = field(default_factory=list)


@dataclass
class CropPlan:
    """How one clip is framed for one output aspect: a moving crop, or the whole frame fitted."""

    layout: Literal["crop", "fit"]
    source_width: int
    source_height: int
    out_width: int
    out_height: int
    crop_w: int = 0
    crop_h: int = 0
    segments: list[CropSegment] = field(default_factory=list)
    scene_cuts: list[float] = field(default_factory=list)  # clip seconds
    faces_found: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CropPlan:
        plan = _from_dict(cls, data)
        plan.segments = [_from_dict(CropSegment, s) for s in data.get("segments", [])]
        return plan


@dataclass
class LayoutKeyframe:
    """One stretch of a clip's framing decisions, the same for every output size.

    start/end are clip seconds; layout is "focus" (the crop holds `speaker`), "split" (two people, one
    pane each) or "fit" (the whole frame); boxes are the framed faces in source display pixels
    ({"speaker", "x", "y", "w", "h"}, the median over the stretch). A re-render can pass edited
    keyframes instead of planning them again.
    """

    start: float
    end: float
    layout: Literal["focus", "split", "fit"]
    speaker: str | None = None
    boxes: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayoutKeyframe:
        return _from_dict(cls, data)


@dataclass
class RenderedFile:
    path: str
    width: int
    height: int
    duration: float
    platforms: list[str]
    thumbnail: str | None = None


@dataclass
class ClipOptions:
    """A clipping request's knobs, validated."""

    max_clips: int = 10
    caption_style: str = "karaoke"
    platforms: list[str] = field(default_factory=lambda: list(DEFAULT_PLATFORMS))
    min_duration: float = 15.0
    max_duration: float = 60.0
    language: str | None = None
    layout: str = "auto"

    def validate(self) -> ClipOptions:
        """Raise InvalidOptions naming the first bad field; return self."""
        if self.layout not in LAYOUTS:
            raise InvalidOptions(f"unknown layout {self.layout!r} (known: {', '.join(LAYOUTS)})")
        if isinstance(self.max_clips, bool) or not isinstance(self.max_clips, int):
            raise InvalidOptions("max_clips must be an integer")
        if not 1 <= self.max_clips <= MAX_CLIPS_LIMIT:
            raise InvalidOptions(f"max_clips must be between 1 and {MAX_CLIPS_LIMIT}, got {self.max_clips}")
        if self.caption_style not in CAPTION_STYLES:
            raise InvalidOptions(
                f"unknown caption_style {self.caption_style!r} (known: {', '.join(CAPTION_STYLES)})"
            )
        platforms = get_platforms(self.platforms)
        if self.min_duration <= 0 or self.max_duration <= 0:
            raise InvalidOptions("min_duration and max_duration must be positive")
        if self.min_duration > self.max_duration:
            raise InvalidOptions(
                f"min_duration ({self.min_duration:g}) must not exceed max_duration ({self.max_duration:g})"
            )
        cap = min(p.max_duration for p in platforms)
        if self.min_duration > cap:
            raise InvalidOptions(f"min_duration ({self.min_duration:g}) exceeds the platforms' limit of {cap:g} s")
        return self

    @property
    def effective_max_duration(self) -> float:
        """max_duration capped by the shortest limit among the requested platforms."""
        return min([self.max_duration, *(p.max_duration for p in get_platforms(self.platforms))])

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClipOptions:
        return _from_dict(cls, data)
