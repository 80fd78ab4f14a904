"""Watermark images: recognised by their first bytes, fetched through the address guard, decoded once."""

from __future__ import annotations

import struct
from pathlib import Path
from urllib.parse import urlsplit

from ..settings import Settings
from .errors import NotMedia
from .ingest import download_url, fetch_source
from .urlguard import check_url

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_SIDE = 4096
HEADER_BYTES = 64 * 1024  # a JPEG's start-of-frame may follow large EXIF/ICC segments


def sniff_image(head: bytes) -> str | None:
    """'.png', '.jpg' or '.webp' from an image's first bytes; None for anything else."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's first start-of-frame marker."""
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, JPEG or WebP header (no decoding, no media libraries)."""
    kind = sniff_image(data)
    if kind == ".png" and len(data) >= 24 and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if kind == ".jpg":
        return _jpeg_size(data)
    if kind == ".webp" and len(data) >= 30:
        chunk = data[12:16]
        if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
            w, h = struct.unpack("<HH", data[26:30])
            return w & 0x3FFF, h & 0x3FFF
        if chunk == b"VP8L" and data[20] == 0x2F:
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if chunk == b"VP8X":
            return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def check_image(path: Path) -> tuple[int, int]:
    """(width, height) of a PNG/JPEG/WebP file, from its header (the API has no media libraries);
    NotMedia for anything else, a damaged header or an oversized image."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if sniff_image(head) is None:
        raise NotMedia("the watermark is not a PNG, JPEG or WebP image")
    size = image_size(head)
    if size is None or not all(size):
        raise NotMedia("the watermark image does not decode (damaged or truncated header)")
    width, height = size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise NotMedia(f"the watermark must be at most {MAX_IMAGE_SIDE} pixels on each side")
    return width, height


def decode_image(path: Path) -> tuple[int, int]:
    """check_image, then a real decode with PyAV (engine side: catches a body damaged past the header)."""
    import av

    check_image(path)
    try:
        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            return frame.width, frame.height
    except (av.error.FFmpegError, StopIteration, OSError, IndexError):
        raise NotMedia("the watermark image does not decode") from None


def fetch_watermark(source: str, dest_dir: Path, *, settings: Settings) -> Path:
    """A local, checked image for `source` (an http(s) URL through the guard, or a local path/file:// URL)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    if urlsplit(source.strip()).scheme.lower() in ("http", "https"):
        check_url(source.strip(), settings.private_urls_allowed)
        path = download_url(source.strip(), dest_dir, settings=settings, max_bytes=MAX_IMAGE_BYTES,
                            sniff=sniff_image, kind="a PNG, JPEG or WebP image")
    else:
        path = fetch_source(source, dest_dir, settings=settings)  # file:// goes through the guard there
    decode_image(path)
    return path
