"""The render `style`: captions, hook title, watermark and tightening. One validated model everywhere.

The same pydantic model validates API bodies, templates, `klipstar clip --style FILE.json` and what the
pipeline hands to the engine. Every field is optional; `resolve_style` deep-merges a template's style
with an inline one (inline wins) and the legacy `caption_style` fills `captions.preset`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from .errors import InvalidOptions
from .fonts import FONT_FAMILIES, FONT_FAMILY

CaptionPreset = Literal["karaoke", "bold", "minimal", "pop", "boxed", "none"]
FontName = Literal["Roboto", "Source Sans Pro", "Lato"]
Position = Literal["bottom", "middle", "top"]
Corner = Literal["top_left", "top_right", "bottom_left", "bottom_right"]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")]
if set(FontName.__args__) != set(FONT_FAMILIES):  # keeps the schema in step with the shipped fonts
    raise ImportError("style.FontName is out of step with engine.fonts.FONT_FAMILIES")

REFERENCE_WIDTH = 1080  # `size` is in pixels of a 1080-wide frame (scaled by min(width, height) / 1080)
FILLER_WORDS: frozenset[str] = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "erm", "er", "err", "ah", "ahh", "hmm", "hm", "mm", "mmm", "eh"}
)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Background(_Part):
    """An opaque box behind the text."""

    color: Color = "#000000"
    opacity: float = Field(0.6, ge=0, le=1, description="0 = invisible, 1 = solid.")


class CaptionsStyle(_Part):
    preset: CaptionPreset | None = Field(None, description="Defaults to the request's caption_style (karaoke).")
    font: FontName | None = Field(None, description="A shipped font family (see the README); default Roboto.")
    size: int | None = Field(None, ge=16, le=200, description="Font size in pixels of a 1080-wide frame.")
    color: Color | None = None
    highlight_color: Color | None = Field(None, description="The spoken word (karaoke, pop, boxed).")
    outline_color: Color | None = None
    background: Background | None = Field(None, description="A box behind the caption; null for none.")
    uppercase: bool | None = None
    max_words_per_line: int | None = Field(None, ge=1, le=12)
    max_lines: int | None = Field(None, ge=1, le=3)
    position: Position | None = Field(None, description="Always inside the platforms' safe area.")


class HookTitle(_Part):
    """A title over the clip's first seconds; off unless this object is given."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=120)] | None = Field(
        None, description="Defaults to the clip's title."
    )
    seconds: float = Field(3.0, gt=0, le=30)
    font: FontName | None = None
    size: int = Field(84, ge=16, le=200)
    color: Color = "#FFFFFF"
    outline_color: Color = "#000000"
    background: Background | None = None
    position: Position = "top"


class Watermark(_Part):
    """A logo image over the video; off unless this object is given. Give one of upload_id and url."""

    # stated in the document too: an upload_id string (and no url) or a url string (and no upload_id)
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"oneOf": [
        {"required": ["upload_id"], "properties": {"upload_id": {"type": "string"}, "url": {"type": "null"}}},
        {"required": ["url"], "properties": {"url": {"type": "string"}, "upload_id": {"type": "null"}}},
    ]})

    upload_id: Annotated[str, StringConstraints(pattern=r"^upl_[A-Za-z0-9]{1,64}$")] | None = None
    url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    corner: Corner = "top_right"
    scale: float = Field(0.18, ge=0.03, le=0.5, description="Logo width as a fraction of the frame width.")
    opacity: float = Field(0.85, ge=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> Watermark:
        if (self.upload_id is None) == (self.url is None):
            raise ValueError("give exactly one of upload_id and url")
        return self


class Tighten(_Part):
    remove_silences: bool = False
    silence_threshold: float = Field(0.6, ge=0.2, le=5, description="Gaps longer than this (s) are cut.")
    pause: float = Field(0.2, ge=0.05, le=1, description="What a cut gap is shortened to (s).")
    remove_filler_words: bool = False


class Style(_Part):
    """How clips look: captions, an optional hook title, watermark, and tightening."""

    captions: CaptionsStyle = Field(default_factory=CaptionsStyle)
    hook_title: HookTitle | None = None
    watermark: Watermark | None = None
    tighten: Tighten | None = None

    @property
    def preset(self) -> str:
        return self.captions.preset or "karaoke"

    @property
    def tightens(self) -> bool:
        return self.tighten is not None and (self.tighten.remove_silences or self.tighten.remove_filler_words)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Style:
        return cls.model_validate(data or {})


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, recursively for nested objects (None in override clears a field)."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _loc(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors(include_url=False)[0]
    param = ".".join(str(p) for p in first.get("loc", ()))
    return param, str(first.get("msg", "invalid"))


def parse_style(data: Any, *, field: str = "style") -> Style:
    """Validate a style dict; InvalidOptions naming the field (e.g. style.captions.font) otherwise."""
    if not isinstance(data, dict):
        raise InvalidOptions(f"{field} must be an object")
    try:
        return Style.model_validate(data)
    except ValidationError as exc:
        param, msg = _loc(exc)
        name = f"{field}.{param}" if param else field
        raise InvalidOptions(f"invalid {name}: {msg}", code="invalid_style") from None


def resolve_style(
    template: dict[str, Any] | None, inline: dict[str, Any] | None, caption_style: str | None = None
) -> Style:
    """Template style, then the inline style on top (deep merge); caption_style is the preset unless set."""
    merged = deep_merge(template or {}, inline or {})
    style = parse_style(merged)
    if style.captions.preset is None and caption_style:
        style = style.model_copy(update={"captions": style.captions.model_copy(update={"preset": caption_style})})
    return style


DEFAULT_FONT: str = FONT_FAMILY
