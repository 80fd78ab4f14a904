"""yt-dlp behind the address guard: every request it makes (page, API calls, redirects, media) is vetted.

`GuardedYoutubeDL` replaces all of yt-dlp's request handlers with one: yt-dlp's requests-based handler
with Klipstar's `GuardedAdapter` mounted, so each request and redirect hop is resolved, checked and
pinned to the vetted IP exactly like direct downloads, environment proxies are ignored and the
download deadline is checked on every request and read. Only yt-dlp's native HTTP downloader may
run (no ffmpeg/HLS/DASH/external tools, which would do their own networking), only the extractors in
`KLIPSTAR_YTDLP_EXTRACTORS` are loaded and the generic extractor never is.
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yt_dlp
from yt_dlp.downloader import get_suitable_downloader
from yt_dlp.downloader.http import HttpFD
from yt_dlp.networking._requests import RequestsHTTPAdapter, RequestsResponseAdapter, RequestsRH
from yt_dlp.networking.exceptions import RequestError

from ..settings import Settings
from .deadline import Deadline
from .errors import EngineError, SourceTimeout, UrlRefused, UrlUnreachable
from .ffmpeg import ffmpeg_exe
from .urlguard import GuardedAdapter

log = logging.getLogger(__name__)

# Direct HTTP(S) formats only: segmented formats (HLS, DASH) would need ffmpeg's own networking.
_HTTP = "[protocol~='^https?$']"
YTDLP_FORMAT = "/".join(
    (
        f"bv*[height<=1080][ext=mp4]{_HTTP}+ba[ext=m4a]{_HTTP}",
        f"b[height<=1080][ext=mp4]{_HTTP}",
        f"bv*[height<=1080]{_HTTP}+ba{_HTTP}",
        f"b[height<=1080]{_HTTP}",
        f"b{_HTTP}",
    )
)


class DownloadGuard:
    """Per-download state shared with the request handler: settings, deadline, first failure seen."""

    def __init__(self, settings: Settings, deadline: Deadline) -> None:
        self.settings = settings
        self.deadline = deadline
        self.failure: EngineError | None = None

    def fail(self, exc: EngineError) -> RequestError:
        """Remember the first failure (it is what the caller sees) and turn it into a yt-dlp error."""
        if self.failure is None:
            self.failure = exc
        return RequestError(exc.code)


class _GuardedHTTPAdapter(GuardedAdapter, RequestsHTTPAdapter):
    """yt-dlp's adapter (its TLS context, source address) with Klipstar's per-hop check and IP pinning."""


class _GuardedResponse(RequestsResponseAdapter):
    """A response whose reads check the download deadline and return as soon as any bytes arrive."""

    _guard: DownloadGuard

    @classmethod
    def wrap(cls, res: RequestsResponseAdapter, guard: DownloadGuard) -> _GuardedResponse:
        """Give `res` this class's reads in place (a second adapter would close the stream when `res` is freed)."""
        res.__class__ = cls
        res._guard = guard  # type: ignore[attr-defined]
        return res  # type: ignore[return-value]

    def _real_read(self, amt: int | None = None) -> bytes:
        try:
            self._guard.deadline.check()
        except SourceTimeout as exc:
            raise self._guard.fail(exc) from None
        if amt is None:
            return super()._real_read(None)
        return self.fp.read1(amt, decode_content=True)  # a dripping source cannot hold one read forever


class GuardedRH(RequestsRH):
    """The only request handler a GuardedYoutubeDL has."""

    RH_NAME = "klipstar-guarded"

    def __init__(self, *args: Any, guard: DownloadGuard, **kwargs: Any) -> None:
        self.guard = guard
        super().__init__(*args, **kwargs)

    def _create_instance(self, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        session = super()._create_instance(cookiejar, legacy_ssl_support)
        adapter = _GuardedHTTPAdapter(
            self.guard.settings.private_urls_allowed,
            ssl_context=self._make_sslcontext(legacy_ssl_support=legacy_ssl_support),
            max_retries=0,
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.max_redirects = self.guard.settings.max_redirects
        return session

    def _send(self, request: Any) -> Any:
        try:
            self.guard.deadline.check()
            res = super()._send(request)
        except EngineError as exc:  # the guard refused a hop, or the deadline passed
            raise self.guard.fail(exc) from None
        return _GuardedResponse.wrap(res, self.guard)


class GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """A YoutubeDL whose networking is GuardedRH only and whose downloads use the native HTTP downloader."""

    def __init__(self, params: dict[str, Any], guard: DownloadGuard) -> None:
        self.guard = guard
        super().__init__(params)

    @functools.cached_property
    def _request_director(self) -> Any:
        return self.build_request_director([functools.partial(GuardedRH, guard=self.guard)])

    def dl(self, name: str, info: dict[str, Any], subtitle: bool = False, test: bool = False) -> Any:
        if get_suitable_downloader(info, self.params, to_stdout=(name == "-")) is not HttpFD:
            raise self.guard.fail(UrlRefused("the video is only offered as a stream Klipstar does not download"))
        return super().dl(name, info, subtitle=subtitle, test=test)


def allowed_extractors(settings: Settings) -> list[str]:
    """yt-dlp `allowed_extractors` regexes for KLIPSTAR_YTDLP_EXTRACTORS (never the generic extractor)."""
    names = [n.strip() for n in settings.ytdlp_extractors.split(",") if n.strip()]
    return [f"{re.escape(n)}(:.+)?" for n in names if n.lower() != "generic"] + ["-generic"]


class _YtdlpLog:
    """Routes yt-dlp's console output to debug logging (it never reaches callers)."""

    def debug(self, msg: str) -> None:
        log.debug("yt-dlp: %s", msg)

    info = warning = error = debug


def ytdlp_options(dest: Path, settings: Settings) -> dict[str, Any]:
    return {
        "format": YTDLP_FORMAT,
        "merge_output_format": "mp4",
        "outtmpl": {"default": str(dest / "source.%(ext)s")},
        "max_filesize": settings.max_download_bytes,
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": settings.download_timeout_seconds,
        "retries": 2,
        "fragment_retries": 0,
        "ffmpeg_location": ffmpeg_exe(),
        "restrictfilenames": True,
        "overwrites": True,
        "cachedir": False,
        "allowed_extractors": allowed_extractors(settings),
        "logger": _YtdlpLog(),
    }


def ytdlp_download(url: str, work: Path, *, settings: Settings, deadline: Deadline) -> dict[str, Any]:
    """Run yt-dlp on `url` into `work` behind the guard; returns yt-dlp's info dict.

    Raises UrlRefused (a hop refused by the guard, an unsupported site or stream), SourceTimeout, or
    UrlUnreachable with Klipstar's own message (yt-dlp's output is logged, never returned).
    """
    host = urlsplit(url).hostname or url
    guard = DownloadGuard(settings, deadline)
    try:
        with GuardedYoutubeDL(ytdlp_options(work, settings), guard) as ydl:
            if not any(ie.suitable(url) for ie in ydl._ies.values()):
                raise UrlRefused(f"{host} is not a supported video site")
            info = ydl.extract_info(url, download=True)
    except EngineError:
        raise
    except Exception as exc:  # yt-dlp wraps what its networking raised; extractors raise assorted errors
        if guard.failure is not None:
            raise guard.failure from None
        log.info("yt-dlp failed on %s: %s", host, str(exc)[:500])
        raise UrlUnreachable(f"cannot download the video at {host}") from None
    if guard.failure is not None:  # failures yt-dlp reported and swallowed
        raise guard.failure
    return info or {}
