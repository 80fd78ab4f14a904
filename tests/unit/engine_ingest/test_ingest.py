"""fetch_source: local files, file://, guarded http(s) downloads with caps and sniffing, yt-dlp routing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chalicelib.engine import ingest
from chalicelib.engine.errors import NotMedia, SourceTimeout, SourceTooLarge, UrlRefused, UrlUnreachable
from chalicelib.engine.ingest import download_video_page, fetch_source, is_video_page, sniff_media
from chalicelib.settings import load_settings

from .conftest import closed_port, drip, redirect, send_bytes, slow
from .ytdlp_site import mp4_format


def settings(**kw):
    return load_settings(environ={}, **kw)


PRIVATE = settings(allow_private_urls=True)


def site_settings(site: str, **kw: object) -> object:
    """Private URLs allowed (loopback servers) and only the test site's yt-dlp extractor."""
    return settings(allow_private_urls=True, ytdlp_extractors=site, **kw)


def leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.rglob("*")) if d.exists() else []


def test_local_path_is_returned_as_is(talk_path: Path, tmp_path: Path) -> None:
    assert fetch_source(str(talk_path), tmp_path / "dl", settings=settings()) == talk_path.resolve()
    assert leftovers(tmp_path) == []


def test_missing_local_file_is_not_media(tmp_path: Path) -> None:
    with pytest.raises(NotMedia, match="no such file"):
        fetch_source(str(tmp_path / "nope.mp4"), tmp_path, settings=settings())


def test_file_url_only_when_private_allowed(talk_path: Path, tmp_path: Path) -> None:
    url = talk_path.resolve().as_uri()
    with pytest.raises(UrlRefused):
        fetch_source(url, tmp_path, settings=settings())
    assert fetch_source(url, tmp_path, settings=PRIVATE) == talk_path.resolve()
    assert fetch_source(url, tmp_path, settings=settings(env="local")) == talk_path.resolve()


def test_other_schemes_refused(tmp_path: Path) -> None:
    with pytest.raises(UrlRefused):
        fetch_source("ftp://example.com/talk.mp4", tmp_path, settings=PRIVATE)


def test_http_download_streams_the_file(serve, talk_path: Path, tmp_path: Path) -> None:
    data = talk_path.read_bytes()
    srv = serve({"/media/my%20talk.mp4": send_bytes(data), "/chunked": send_bytes(data, length=False)})
    got = fetch_source(srv.url("/media/my%20talk.mp4"), tmp_path / "dl", settings=PRIVATE)
    assert got.parent == tmp_path / "dl" and got.suffix == ".mp4"
    assert got.read_bytes() == data
    got2 = fetch_source(srv.url("/chunked"), tmp_path / "dl2", settings=PRIVATE)
    assert got2.read_bytes() == data
    assert leftovers(tmp_path / "dl") == [got.name] and leftovers(tmp_path / "dl2") == [got2.name]


def test_http_loopback_refused_without_allow_private(serve, tmp_path: Path) -> None:
    srv = serve({"/v.mp4": send_bytes(b"\x00" * 100)})
    with pytest.raises(UrlRefused):
        fetch_source(srv.url("/v.mp4"), tmp_path, settings=settings())
    assert srv.hits == [] and leftovers(tmp_path) == []


def test_html_page_is_not_media(serve, tmp_path: Path) -> None:
    page = b"<!doctype html><html><head><title>Video</title></head><body>" + b"x" * 5000 + b"</body></html>"
    srv = serve({"/watch": send_bytes(page, "text/html")})
    with pytest.raises(NotMedia, match="text/html"):
        fetch_source(srv.url("/watch"), tmp_path / "dl", settings=PRIVATE)
    assert leftovers(tmp_path / "dl") == []


def test_size_cap_from_content_length(serve, talk_path: Path, tmp_path: Path) -> None:
    srv = serve({"/v.mp4": send_bytes(talk_path.read_bytes())})
    with pytest.raises(SourceTooLarge):
        fetch_source(
            srv.url("/v.mp4"), tmp_path / "dl", settings=settings(allow_private_urls=True, max_download_bytes=100_000)
        )
    assert leftovers(tmp_path / "dl") == []


def test_size_cap_while_streaming_without_length(serve, talk_path: Path, tmp_path: Path) -> None:
    srv = serve({"/v.mp4": send_bytes(talk_path.read_bytes(), length=False)})
    with pytest.raises(SourceTooLarge):
        fetch_source(
            srv.url("/v.mp4"), tmp_path / "dl", settings=settings(allow_private_urls=True, max_download_bytes=300_000)
        )
    assert leftovers(tmp_path / "dl") == []


def test_http_errors_and_closed_ports_are_unreachable(serve, tmp_path: Path) -> None:
    srv = serve({})
    with pytest.raises(UrlUnreachable, match="404"):
        fetch_source(srv.url("/missing.mp4"), tmp_path, settings=PRIVATE)
    with pytest.raises(UrlUnreachable):
        fetch_source(f"http://127.0.0.1:{closed_port()}/v.mp4", tmp_path, settings=PRIVATE)
    assert leftovers(tmp_path) == []


def test_timeout_is_unreachable(serve, tmp_path: Path) -> None:
    srv = serve({"/slow.mp4": slow(3.0)})
    with pytest.raises(UrlUnreachable, match="timed out"):
        fetch_source(
            srv.url("/slow.mp4"), tmp_path, settings=settings(allow_private_urls=True, download_timeout_seconds=0.5)
        )


def test_dripping_source_hits_the_total_deadline(serve, talk_path: Path, tmp_path: Path) -> None:
    """One byte every 50 ms never trips the 0.5 s read timeout; the whole-download deadline (1 s) does."""
    srv = serve({"/drip.mp4": drip(talk_path.read_bytes()[:2048], 0.05)})
    deadline_settings = settings(allow_private_urls=True, download_timeout_seconds=0.5, download_seconds_per_gb=0.001)
    assert deadline_settings.download_deadline_seconds == 1.0
    with pytest.raises(SourceTimeout) as err:
        fetch_source(srv.url("/drip.mp4"), tmp_path / "dl", settings=deadline_settings)
    assert err.value.code == "source_timeout"
    assert leftovers(tmp_path / "dl") == []


def test_too_many_redirects_is_unreachable(serve, tmp_path: Path) -> None:
    srv = serve({"/r/*": redirect(lambda path: f"/r/{int(path.rsplit('/', 1)[1]) + 1}")})
    with pytest.raises(UrlUnreachable, match="redirected more than 2"):
        fetch_source(srv.url("/r/0"), tmp_path, settings=settings(allow_private_urls=True, max_redirects=2))
    assert len(srv.hits) == 3


def test_redirect_to_metadata_refused_during_download(serve, tmp_path: Path) -> None:
    srv = serve({"/v.mp4": redirect("http://169.254.169.254/latest/meta-data/iam/")})
    with pytest.raises(UrlRefused):
        fetch_source(srv.url("/v.mp4"), tmp_path, settings=PRIVATE)


def test_sniffing_real_media(talk_path: Path, audio_only_path: Path, talk_wav: Path) -> None:
    assert sniff_media(talk_path.read_bytes()[:4096]) == ".mp4"
    assert sniff_media(audio_only_path.read_bytes()[:4096]) == ".m4a"
    assert sniff_media(talk_wav.read_bytes()[:4096]) == ".wav"
    assert sniff_media(b"\x1a\x45\xdf\xa3\x01\x00\x00\x00\x00\x00\x00\x1fB\x86\x81\x01webm") == ".webm"
    assert sniff_media(b"ID3\x04\x00" + b"\x00" * 100) == ".mp3"
    for junk in (b"<!DOCTYPE html><html>", b"%PDF-1.7\n", b"PK\x03\x04zip", b'{"json": 1}', b""):
        assert sniff_media(junk) is None


@pytest.mark.parametrize(
    ("url", "page"),
    [
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", True),
        ("https://youtu.be/dQw4w9WgXcQ", True),
        ("https://m.youtube.com/shorts/abc", True),
        ("https://vimeo.com/123456", True),
        ("https://x.com/someone/status/1", True),
        ("https://twitter.com/someone/status/1", True),
        ("https://www.tiktok.com/@a/video/1", True),
        ("https://www.instagram.com/reel/abc/", True),
        ("https://cdn.example.com/talk.mp4", False),
        ("https://notyoutube.com/watch?v=1", False),
        ("https://youtube.com.evil.example/v", False),
        ("file:///tmp/youtube.com.mp4", False),
    ],
)
def test_video_page_routing(url: str, page: bool) -> None:
    assert is_video_page(url) is page


def test_video_page_urls_go_to_ytdlp_after_the_guard(monkeypatch, tmp_path: Path) -> None:
    """The routing decision: a YouTube URL is guarded, then handed to yt-dlp (not the plain downloader)."""
    calls: list[str] = []
    monkeypatch.setattr(ingest, "check_url", lambda url, allow: calls.append(f"guard {url}"))
    monkeypatch.setattr(ingest, "download_video_page", lambda url, d, settings: calls.append(f"ytdlp {url}") or d)
    monkeypatch.setattr(ingest, "download_url", lambda url, d, settings: calls.append(f"http {url}") or d)
    fetch_source("https://youtu.be/abc", tmp_path, settings=settings())
    fetch_source("https://cdn.example.com/a.mp4", tmp_path, settings=settings())
    assert calls == [
        "guard https://youtu.be/abc", "ytdlp https://youtu.be/abc",
        "guard https://cdn.example.com/a.mp4", "http https://cdn.example.com/a.mp4",
    ]  # fmt: skip


def test_ytdlp_downloads_a_video_page(serve, test_site, talk_path: Path, tmp_path: Path) -> None:
    """The real yt-dlp path, offline: the test site's page names a media file that yt-dlp downloads."""
    data = talk_path.read_bytes()
    srv = serve({"/talk.mp4": send_bytes(data)})
    srv.routes["/klipstar-test/v"] = send_bytes(json.dumps({"formats": [mp4_format(srv.url("/talk.mp4"))]}).encode())
    got = download_video_page(srv.url("/klipstar-test/v"), tmp_path, settings=site_settings(test_site))
    assert got == tmp_path / "source.mp4" and got.read_bytes() == data
    assert leftovers(tmp_path) == ["source.mp4"]


def test_ytdlp_size_cap(serve, test_site, talk_path: Path, tmp_path: Path) -> None:
    srv = serve({"/talk.mp4": send_bytes(talk_path.read_bytes())})
    srv.routes["/klipstar-test/v"] = send_bytes(json.dumps({"formats": [mp4_format(srv.url("/talk.mp4"))]}).encode())
    with pytest.raises(SourceTooLarge):
        download_video_page(
            srv.url("/klipstar-test/v"), tmp_path, settings=site_settings(test_site, max_download_bytes=200_000)
        )
    assert leftovers(tmp_path) == []


def test_ytdlp_download_error_maps_to_unreachable(serve, test_site, tmp_path: Path) -> None:
    srv = serve({"/klipstar-test/page": send_bytes(b"<html><body>no video here</body></html>", "text/html")})
    with pytest.raises(UrlUnreachable, match="cannot download"):
        url = f"http://127.0.0.1:{closed_port()}/klipstar-test/v1"
        download_video_page(url, tmp_path, settings=site_settings(test_site))
    with pytest.raises(UrlUnreachable, match="cannot download"):
        download_video_page(srv.url("/klipstar-test/page"), tmp_path, settings=site_settings(test_site))
    assert leftovers(tmp_path) == []


def trickle(head: bytes, chunk: bytes, interval: float, total: int) -> Callable[[Any], None]:
    """A route sending `head` then `chunk` every `interval` s: a source too slow to finish in time."""

    def route(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Content-Length", str(len(head) + total))
        handler.end_headers()
        handler.wfile.write(head)
        handler.wfile.flush()
        sent = 0
        while sent < total:
            time.sleep(interval)
            handler.wfile.write(chunk)
            handler.wfile.flush()
            sent += len(chunk)

    return route


def test_source_slower_than_the_ingest_deadline_fails_with_its_own_code(serve, tmp_path: Path,
                                                                      talk_path: Path) -> None:
    """Steady but slow (never a read timeout): refused at the ingest-bound cap with source_timeout, no file left."""
    head = talk_path.read_bytes()[:8192]  # real MP4 bytes: passes the media sniffing
    srv = serve({"/slow.mp4": trickle(head, b"\0" * 4096, 0.05, 50 * 1024 * 1024)})
    started = time.monotonic()
    slow_settings = settings(allow_private_urls=True, download_timeout_seconds=0.5, download_max_seconds=1.0)
    assert slow_settings.download_deadline_seconds == 1.0  # the cap wins over the per-GB allowance (~805 s)
    with pytest.raises(SourceTimeout, match="POST /v1/uploads") as caught:
        fetch_source(srv.url("/slow.mp4"), tmp_path, settings=slow_settings)
    assert caught.value.code == "source_timeout"
    assert time.monotonic() - started < 10  # checked while downloading, not after
    assert leftovers(tmp_path) == []
