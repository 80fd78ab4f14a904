"""yt-dlp behind the address guard, with production settings (private addresses refused).

127.0.0.2 plays a public site; 127.0.0.1 plays a private service that must never be reached. The
three bypasses of issue 13 (a redirect, a media URL, a name that resolves public for the guard and
private for yt-dlp) are reproduced with a real yt-dlp run through a test extractor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.engine.errors import SourceTimeout, UrlRefused, UrlUnreachable
from chalicelib.engine.ingest import download_video_page
from chalicelib.engine.urlguard import check_url
from chalicelib.engine.ytdlp import allowed_extractors
from chalicelib.settings import load_settings

from .conftest import drip, redirect, send_bytes
from .ytdlp_site import mp4_format

pytestmark = pytest.mark.usefixtures("public_127_0_0_2")


def prod(site: str, **env: str) -> object:
    """Production settings (private URLs refused) with only the test site's extractor allowed."""
    return load_settings(environ={"KLIPSTAR_YTDLP_EXTRACTORS": site, **env})


def page(*formats: dict) -> object:
    return send_bytes(json.dumps({"formats": list(formats)}).encode(), "application/json")


@pytest.fixture
def private(serve, talk_path: Path):
    """The private service (127.0.0.1) an attacker wants reached."""
    return serve({"/secret.mp4": send_bytes(talk_path.read_bytes()), "/admin": send_bytes(b"internal")})


def test_redirect_from_allowed_host_to_private_is_refused(serve, private, test_site, tmp_path: Path) -> None:
    public = serve({"/klipstar-test/r": redirect(private.url("/admin"))}, host="127.0.0.2")
    with pytest.raises(UrlRefused):
        download_video_page(public.url("/klipstar-test/r"), tmp_path, settings=prod(test_site))
    assert [h[0] for h in public.hits] == ["/klipstar-test/r"]
    assert private.hits == []


def test_media_url_pointing_at_private_address_is_refused(serve, private, test_site, tmp_path: Path) -> None:
    public = serve({"/klipstar-test/m": page(mp4_format(private.url("/secret.mp4")))}, host="127.0.0.2")
    with pytest.raises(UrlRefused):
        download_video_page(public.url("/klipstar-test/m"), tmp_path, settings=prod(test_site))
    assert private.hits == []
    assert not list(tmp_path.rglob("*.mp4"))


def test_name_public_for_the_guard_private_for_ytdlp_is_refused(private, test_site, fake_dns, tmp_path) -> None:
    private.routes["/klipstar-test/d"] = page(mp4_format(private.url("/secret.mp4")))
    fake_dns({"flip.test": ["127.0.0.2", "127.0.0.1"]})
    url = private.url("/klipstar-test/d", host="flip.test")
    check_url(url, allow_private=False)  # what fetch_source checks first: a public answer
    with pytest.raises(UrlRefused):
        download_video_page(url, tmp_path, settings=prod(test_site))
    assert private.hits == []


def test_allowed_site_still_downloads_by_name(serve, test_site, fake_dns, talk_path, tmp_path) -> None:
    data = talk_path.read_bytes()
    public = serve({"/talk.mp4": send_bytes(data)}, host="127.0.0.2")
    public.routes["/klipstar-test/ok"] = page(mp4_format(public.url("/talk.mp4", host="video.test")))
    looked_up = fake_dns({"video.test": ["127.0.0.2"]})
    got = download_video_page(public.url("/klipstar-test/ok", host="video.test"), tmp_path, settings=prod(test_site))
    assert got.read_bytes() == data
    assert [h[0] for h in public.hits] == ["/klipstar-test/ok", "/talk.mp4"]
    assert all(h[1] == f"video.test:{public.port}" for h in public.hits)  # Host keeps the name
    assert looked_up  # the name went through the guard's resolver


def test_generic_extractor_is_never_used(serve, test_site, talk_path: Path, tmp_path: Path) -> None:
    public = serve({"/talk.mp4": send_bytes(talk_path.read_bytes())}, host="127.0.0.2")
    for names in (f"{test_site},generic", "generic"):
        with pytest.raises(UrlRefused, match="not a supported video site"):
            download_video_page(public.url("/talk.mp4"), tmp_path, settings=prod(names))
    assert public.hits == []


def test_streams_needing_other_downloaders_are_not_fetched(serve, test_site, tmp_path: Path) -> None:
    """An HLS-only video would be fetched by ffmpeg or fragment code: it is refused before any media request."""
    public = serve({}, host="127.0.0.2")
    public.routes["/klipstar-test/hls"] = page(mp4_format(public.url("/v.m3u8"), protocol="m3u8"))
    with pytest.raises(UrlUnreachable):
        download_video_page(public.url("/klipstar-test/hls"), tmp_path, settings=prod(test_site))
    assert [h[0] for h in public.hits] == ["/klipstar-test/hls"]


def test_errors_are_klipstar_messages_not_tool_output(serve, test_site, tmp_path: Path) -> None:
    secret = "db-password=hunter2"
    public = serve({"/klipstar-test/x": send_bytes(f"<html>{secret}</html>".encode(), "text/html")}, host="127.0.0.2")
    with pytest.raises(UrlUnreachable) as err:
        download_video_page(public.url("/klipstar-test/x"), tmp_path, settings=prod(test_site))
    assert err.value.message == "cannot download the video at 127.0.0.2"
    assert err.value.code == "url_unreachable"


def test_ytdlp_download_has_a_total_deadline(serve, test_site, talk_path: Path, tmp_path: Path) -> None:
    public = serve({"/drip.mp4": drip(talk_path.read_bytes()[:2048], 0.05)}, host="127.0.0.2")
    public.routes["/klipstar-test/slow"] = page(mp4_format(public.url("/drip.mp4")))
    settings = prod(test_site, KLIPSTAR_DOWNLOAD_TIMEOUT_SECONDS="0.5", KLIPSTAR_DOWNLOAD_SECONDS_PER_GB="0.001")
    with pytest.raises(SourceTimeout) as err:
        download_video_page(public.url("/klipstar-test/slow"), tmp_path, settings=settings)
    assert err.value.code == "source_timeout"
    assert not list(tmp_path.rglob("*.mp4"))


def test_every_default_extractor_name_exists() -> None:
    """Each name in the documented default matches at least one yt-dlp extractor."""
    import re

    from yt_dlp.extractor import gen_extractor_classes

    names = [ie.IE_NAME for ie in gen_extractor_classes()]
    patterns = allowed_extractors(load_settings(environ={}))
    assert patterns[-1] == "-generic"
    for pattern in patterns[:-1]:
        assert any(re.fullmatch(pattern, n, re.I) for n in names), pattern
