"""Watermark images: recognised by their first bytes, fetched through the address guard, decoded once."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import av

from ..settings import Settings
from .errors import NotMedia
from .ingest import download_url, fetch_source
from .urlguard import check_url

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIDE = 4096


def sniff_image(head: bytes) -> str | None:
    """'.png', '.jpg' or '.webp' from an image's first bytes; None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


def check_image(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG/JPEG/WebP file that decodes; NotMedia otherwise."""
    with open(path, "rb") as fh:
        head = fh.read(16)
    if sniff_image(head) is None:
        raise NotMedia("the watermark is not a PNG, JPEG or WebP image")
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            width, height = frame.width, frame.height
    except (av.error.FFmpegError, StopIteration, OSError, IndexError):
        raise NotMedia("the watermark image does not decode") from None
    if not (0 < width <= MAX_IMAGE_SIDE and 0 < height <= MAX_IMAGE_SIDE):
        raise NotMedia(f"the watermark must be at most {MAX_IMAGE_SIDE} pixels on each side")
    return width, height


def fetch_watermark(source: str, dest_dir: Path, *, settings: Settings) -> Path:
    """A local, checked image for `source` (an http(s) URL through the guard, or a local path/file:// URL)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    if urlsplit(source.strip()).scheme.lower() in ("http", "https"):
        check_url(source.strip(), settings.private_urls_allowed)
        path = download_url(source.strip(), dest_dir, settings=settings, max_bytes=MAX_IMAGE_BYTES,
                            sniff=sniff_image, kind="a PNG, JPEG or WebP image")
    else:
        path = fetch_source(source, dest_dir, settings=settings)  # file:// goes through the guard there
    check_image(path)
    return path
