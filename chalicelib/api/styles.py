"""A request's render style: its template (the caller's own) under its inline `style`, validated, with the
watermark image fetched once (upload or guarded URL), checked, and stored beside the project."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..data import storage
from ..data.models import Template
from ..engine.errors import EngineError, InvalidOptions
from ..engine.style import Style, deep_merge, resolve_style
from ..engine.watermark import check_image, fetch_watermark, sniff_image
from ..settings import get_settings
from .errors import ApiError
from .executions import screen_url
from .loaders import load_owned, load_upload

WATERMARK_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}


@dataclass
class ResolvedStyle:
    style: Style
    template_id: str | None
    watermark_key: str | None


def load_template(tenant: str, template_id: str, param: str = "template_id") -> Template:
    return load_owned(Template, "template", tenant, template_id, param)


def style_param(message: str) -> str:
    """The dotted field an engine style error names (e.g. style.captions.font), else `style`."""
    word = message.split(":", 1)[0].removeprefix("invalid ").strip()
    return word if word.startswith("style") else "style"


def resolve_request_style(
    tenant: str, template_id: str | None, inline: Style | None, caption_style: str | None,
    *, base: dict[str, Any] | None = None, explicit_preset: str | None = None,
) -> Style:
    """base (e.g. the project's style) < template < inline fields; caption_style fills the preset.

    explicit_preset (a caption_style the caller set) counts as an inline `captions.preset` unless the
    inline style names one itself."""
    template = load_template(tenant, template_id).style if template_id else None
    merged: dict[str, Any] = dict(base or {})
    if template:
        merged = deep_merge(merged, template)
    overrides = inline.model_dump(mode="json", exclude_unset=True) if inline else {}  # only what was given
    if explicit_preset and "preset" not in overrides.get("captions", {}):
        overrides = deep_merge(overrides, {"captions": {"preset": explicit_preset}})
    try:
        return resolve_style(merged, overrides, caption_style)
    except InvalidOptions as exc:
        raise ApiError(400, "invalid_field", exc.message, param=style_param(exc.message)) from None


def store_watermark(tenant: str, project_id: str, style: Style, name: str) -> str | None:
    """Fetch and check the style's watermark; its object key under the project (None without one)."""
    wm = style.watermark
    if wm is None:
        return None
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="klipstar-wm-", dir=settings.work_dir or None) as tmp:
        if wm.upload_id:
            param = "style.watermark.upload_id"
            upload = load_upload(tenant, wm.upload_id, param=param)
            if upload.status == "pending":
                raise ApiError(409, "upload_incomplete", "The watermark upload has not been completed yet.",
                               param=param)
            path = storage.get_file(upload.key, Path(tmp) / "upload")
        else:
            param = "style.watermark.url"
            if urlsplit(str(wm.url).strip()).scheme.lower() not in ("http", "https"):
                raise ApiError(400, "url_refused", "style.watermark.url must be an http(s) URL.", param=param)
            screen_url(str(wm.url), param)
            try:
                path = fetch_watermark(str(wm.url), Path(tmp), settings=settings)
            except EngineError as exc:
                raise ApiError(400, "invalid_watermark", exc.message, param=param) from None
        try:
            check_image(path)
        except EngineError as exc:
            raise ApiError(400, "invalid_watermark", exc.message, param=param) from None
        with open(path, "rb") as fh:
            head = fh.read(16)
        ext = sniff_image(head) or ".png"
        key = storage.work_key(tenant, project_id, f"{name}{ext}")
        storage.put_file(key, path, WATERMARK_TYPES[ext])
    return key
