"""Ingest: turn a source string (local path, file://, http(s) URL, video-page URL) into a local media file."""

from __future__ import annotations

import contextlib
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import requests
import urllib3

from ..settings import Settings
from .deadline import Deadline
from .errors import NotMedia, SourceTooLarge, UrlRefused, UrlUnreachable
from .urlguard import check_url, guarded_session

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024  # at most this per read1(), which returns whatever has arrived (deadline checked between)
SNIFF_BYTES = 4096

# Hosts whose URLs are web pages around a video, fetched with yt-dlp (suffix match on the host name).
VIDEO_PAGE_HOSTS: tuple[str, ...] = (
    "youtube.com", "youtu.be", "youtube-nocookie.com", "vimeo.com", "x.com", "twitter.com",
    "tiktok.com", "instagram.com", "facebook.com", "fb.watch", "twitch.tv", "dailymotion.com",
    "loom.com", "rumble.com", "linkedin.com", "reddit.com", "streamable.com", "wistia.com",
)  # fmt: skip


def sniff_media(head: bytes) -> str | None:
    """The container's usual file extension from its first bytes, or None if it is not a media file we know."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"qt"):
            return ".mov"
        if brand in (b"M4A ", b"M4B "):
            return ".m4a"
        if brand.startswith(b"3g"):
            return ".3gp"
        return ".mp4"
    if len(head) >= 8 and head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return ".mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm" if b"webm" in head[:64] else ".mkv"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return ".avi"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return ".wav"
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] in (0xFB, 0xF3, 0xF2, 0xFA)):
        return ".mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return ".aac"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"FLV\x01"):
        return ".flv"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return ".wmv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return ".mpg"
    if len(head) > 376 and head[0] == 0x47 and head[188] == 0x47 and head[376] == 0x47:
        return ".ts"
    return None


def is_video_page(url: str) -> bool:
    """Whether `url` is a video-hosting page (YouTube, Vimeo, X, TikTok...) that needs yt-dlp."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return False
    host = (parts.hostname or "").rstrip(".").lower()
    return any(host == h or host.endswith("." + h) for h in VIDEO_PAGE_HOSTS)


def _safe_stem(url: str) -> str:
    name = Path(unquote(urlsplit(url).path)).stem or "source"
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:80] or "source"


def fetch_source(source: str, dest_dir: Path, *, settings: Settings) -> Path:
    """A local media file for `source`. Downloads go to dest_dir (temp file, renamed when complete).

    Raises UrlRefused, UrlUnreachable, SourceTooLarge or NotMedia.
    """
    source = source.strip()
    scheme = urlsplit(source).scheme.lower()
    allow_private = settings.private_urls_allowed
    if scheme in ("http", "https"):
        check_url(source, allow_private)
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        if is_video_page(source):
            return download_video_page(source, dest_dir, settings=settings)
        return download_url(source, dest_dir, settings=settings)
    if scheme == "file":
        check_url(source, allow_private)
        path = Path(url2pathname(urlsplit(source).path))
    elif len(scheme) > 1:  # a one-letter "scheme" is a Windows drive
        raise UrlRefused(f"URL scheme {scheme!r} is not allowed (use http or https)")
    else:
        path = Path(source).expanduser()
    if not path.is_file():
        raise NotMedia(f"no such file: {path}")
    return path.resolve()


def _read_chunks(resp: requests.Response, deadline: Deadline) -> Iterator[bytes]:
    """The body in pieces as they arrive (not whole chunks), checking the deadline between reads."""
    while True:
        deadline.check()
        chunk = resp.raw.read1(CHUNK_BYTES, decode_content=True)
        if not chunk:
            return
        yield chunk


def download_url(
    url: str, dest_dir: Path, *, settings: Settings, max_bytes: int | None = None,
    sniff: Callable[[bytes], str | None] = sniff_media, kind: str = "a video or audio file",
) -> Path:
    """Stream `url` through the guarded session into dest_dir with size cap, timeout and content sniffing.

    `sniff` names the file's extension from its first bytes (None: not `kind`, refused)."""
    cap = max_bytes or settings.max_download_bytes
    timeout = settings.download_timeout_seconds
    deadline = Deadline(settings.download_deadline_seconds)
    session = guarded_session(settings.private_urls_allowed, settings.max_redirects)
    tmp: Path | None = None
    try:
        with session.get(url, stream=True, timeout=(timeout, timeout), headers={"Accept": "*/*"}) as resp:
            if resp.status_code >= 400:
                raise UrlUnreachable(f"{url} answered HTTP {resp.status_code}")
            length = resp.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > cap:
                raise SourceTooLarge(f"the source is {int(length):,} bytes, more than the {cap:,}-byte limit")
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            fd, name = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=dest_dir)
            tmp = Path(name)
            head = b""
            sniffed = False
            total = 0
            with open(fd, "wb") as out:
                for chunk in _read_chunks(resp, deadline):
                    if not sniffed:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if len(head) >= 512:
                            sniffed = True  # refuse a web page before downloading all of it
                            if sniff(head) is None:
                                raise NotMedia(f"{url} is not {kind} ({ctype or 'unknown type'})")
                    total += len(chunk)
                    if total > cap:
                        raise SourceTooLarge(f"the source is larger than the {cap:,}-byte limit")
                    out.write(chunk)
        ext = sniff(head)
        if ext is None:
            raise NotMedia(f"{url} is not {kind} ({ctype or 'unknown type'})")
        final = dest_dir / f"{_safe_stem(url)}{ext}"
        tmp.replace(final)
        tmp = None
        return final
    except requests.TooManyRedirects:
        raise UrlUnreachable(f"{url} redirected more than {settings.max_redirects} times") from None
    except (requests.Timeout, urllib3.exceptions.ReadTimeoutError):
        raise UrlUnreachable(f"{url} timed out after {timeout:g} s") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise UrlUnreachable(f"cannot fetch {url}: {type(exc).__name__}") from None
    finally:
        session.close()
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def download_video_page(url: str, dest_dir: Path, *, settings: Settings) -> Path:
    """Download the best mp4 (<= 1080p, <= max_download_bytes) behind a video-page URL with guarded yt-dlp.

    Raises UrlRefused, UrlUnreachable, SourceTimeout, SourceTooLarge or NotMedia (Klipstar's messages only).
    """
    from .ytdlp import ytdlp_download  # yt-dlp ships only in the media image, not the API's zip

    work = Path(tempfile.mkdtemp(prefix=".ytdlp-", dir=dest_dir))
    deadline = Deadline(settings.download_deadline_seconds)
    try:
        info = ytdlp_download(url, work, settings=settings, deadline=deadline)
        files = [p for p in work.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
        if not files:
            size = (info or {}).get("filesize") or (info or {}).get("filesize_approx")
            if size and size > settings.max_download_bytes:
                raise SourceTooLarge(f"the video is {int(size):,} bytes, more than the allowed size")
            raise SourceTooLarge(f"the video at {url} is larger than {settings.max_download_bytes:,} bytes")
        produced = max(files, key=lambda p: p.stat().st_size)
        if produced.stat().st_size > settings.max_download_bytes:
            raise SourceTooLarge(f"the video is larger than {settings.max_download_bytes:,} bytes")
        with produced.open("rb") as fh:
            ext = sniff_media(fh.read(SNIFF_BYTES))
        if ext is None:
            raise NotMedia(f"{url} did not give a video file")
        final = dest_dir / f"source{ext}"
        produced.replace(final)
        return final
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(work)
