"""The address guard: refusal before connecting, pinning to the vetted IP, and re-checks on every redirect."""

from __future__ import annotations

import ipaddress
import ssl

import pytest
import requests

from chalicelib.engine import urlguard
from chalicelib.engine.errors import UrlRefused, UrlUnreachable
from chalicelib.engine.urlguard import check_url, guarded_session, resolve_and_check

from .conftest import closed_port, redirect, send_bytes

REFUSED_HOSTS = [
    "10.1.2.3", "172.16.5.4", "192.168.1.10", "127.0.0.1", "127.8.9.10", "[::1]", "0.0.0.0", "[::]",
    "169.254.169.254", "169.254.1.1", "[fd00:ec2::254]", "[fe80::1]", "[fc00::5]", "100.64.0.1",
    "100.127.255.254", "224.0.0.251", "[ff02::1]", "240.0.0.1", "255.255.255.255", "198.18.0.1",
    "192.0.2.7", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]",
    "[2002:7f00:1::]", "[64:ff9b::a9fe:a9fe]", "metadata.google.internal", "localhost",
]  # fmt: skip


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_private_and_special_addresses_are_refused(host: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(f"http://{host}/video.mp4", allow_private=False)


@pytest.mark.parametrize("host", ["93.184.216.34", "8.8.8.8", "[2606:4700:4700::1111]", "1.1.1.1"])
def test_public_ip_literals_pass(host: str) -> None:
    check_url(f"https://{host}/talk.mp4", allow_private=False)  # no exception; nothing is fetched


@pytest.mark.parametrize("url", ["ftp://example.com/a.mp4", "gopher://x/", "data:video/mp4,AAAA", "//x/y", "x"])
def test_only_http_and_https_schemes(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url, allow_private=False)
    if not url.startswith("file"):
        with pytest.raises(UrlRefused):
            check_url(url, allow_private=True)


def test_file_urls_need_allow_private() -> None:
    with pytest.raises(UrlRefused):
        check_url("file:///etc/hosts", allow_private=False)
    check_url("file:///etc/hosts", allow_private=True)


def test_credentials_in_url_refused() -> None:
    with pytest.raises(UrlRefused):
        check_url("http://user:pass@93.184.216.34/", allow_private=False)


def test_allow_private_accepts_loopback_but_never_metadata() -> None:
    assert resolve_and_check("127.0.0.1", 80, allow_private=True) == ["127.0.0.1"]
    assert "127.0.0.1" in resolve_and_check("localhost", 80, allow_private=True) or resolve_and_check(
        "localhost", 80, allow_private=True
    ) == ["::1"]
    for host in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "metadata.google.internal"):
        with pytest.raises(UrlRefused):
            resolve_and_check(host, 80, allow_private=True)


def test_one_private_answer_among_public_ones_is_refused(fake_dns) -> None:
    fake_dns({"mixed.test": ["93.184.216.34,127.0.0.1"]})
    with pytest.raises(UrlRefused, match=r"^mixed\.test resolves to a private") as err:
        check_url("http://mixed.test/v.mp4", allow_private=False)
    assert "127.0.0.1" not in err.value.message  # the error names the host, never what it resolves to


def test_unresolvable_host_is_unreachable() -> None:
    with pytest.raises(UrlUnreachable):
        check_url("http://no-such-host.invalid/v.mp4", allow_private=False)


def test_session_refuses_loopback_before_connecting(serve) -> None:
    srv = serve({"/v": send_bytes(b"x" * 10)})
    with guarded_session(allow_private=False, max_redirects=3) as s, pytest.raises(UrlRefused):
        s.get(srv.url("/v"), timeout=5)
    assert srv.hits == []  # the server never saw a request


def test_session_allow_private_fetches_loopback(serve) -> None:
    srv = serve({"/v": send_bytes(b"hello")})
    with guarded_session(allow_private=True, max_redirects=3) as s:
        r = s.get(srv.url("/v"), timeout=5)
    assert r.status_code == 200 and r.content == b"hello"
    assert srv.hits == [("/v", f"127.0.0.1:{srv.port}")]


def test_redirect_to_metadata_is_refused_even_when_private_allowed(serve) -> None:
    srv = serve({"/start": redirect("http://169.254.169.254/latest/meta-data/")})
    with guarded_session(allow_private=True, max_redirects=5) as s, pytest.raises(UrlRefused, match="metadata"):
        s.get(srv.url("/start"), timeout=5)
    assert [h[0] for h in srv.hits] == ["/start"]


def test_redirect_to_private_is_refused(serve, monkeypatch) -> None:
    """127.0.0.2 plays a public host (the guard is told so); it redirects to a private 127.0.0.1 server."""
    real = urlguard._not_public
    monkeypatch.setattr(urlguard, "_not_public", lambda ip: ip != ipaddress.ip_address("127.0.0.2") and real(ip))
    private = serve({"/secret": send_bytes(b"secret")}, host="127.0.0.1")
    public = serve({"/start": redirect(private.url("/secret")), "/ok": send_bytes(b"ok")}, host="127.0.0.2")
    with guarded_session(allow_private=False, max_redirects=5) as s:
        assert s.get(public.url("/ok"), timeout=5).content == b"ok"  # the "public" host itself is fine
        with pytest.raises(UrlRefused, match=r"127\.0\.0\.1"):
            s.get(public.url("/start"), timeout=5)
    assert private.hits == []


def test_redirect_cap(serve) -> None:
    srv = serve({"/r/*": redirect(lambda path: f"/r/{int(path.rsplit('/', 1)[1]) + 1}")})
    with guarded_session(allow_private=True, max_redirects=3) as s, pytest.raises(requests.TooManyRedirects):
        s.get(srv.url("/r/0"), timeout=5)
    assert [h[0] for h in srv.hits] == ["/r/0", "/r/1", "/r/2", "/r/3"]


def test_redirects_within_cap_are_followed(serve) -> None:
    srv = serve({"/a": redirect("/b"), "/b": redirect("/c", 301), "/c": send_bytes(b"done")})
    with guarded_session(allow_private=True, max_redirects=2) as s:
        r = s.get(srv.url("/a"), timeout=5)
    assert r.content == b"done" and [h[0] for h in srv.hits] == ["/a", "/b", "/c"]


def test_connection_is_pinned_to_the_checked_ip(serve, fake_dns) -> None:
    """DNS rebinding: the second answer points elsewhere; the request still goes to the vetted IP."""
    srv = serve({"/v": send_bytes(b"pinned")})
    looked_up = fake_dns({"rebind.test": ["127.0.0.1", "127.0.0.9"]})
    with guarded_session(allow_private=True, max_redirects=0) as s:
        r = s.get(srv.url("/v", host="rebind.test"), timeout=5)
    assert r.content == b"pinned"
    assert looked_up == ["rebind.test"]  # resolved once, by the guard
    assert srv.hits == [("/v", f"rebind.test:{srv.port}")]  # Host keeps the name


def test_rebinding_to_private_is_refused(serve, fake_dns) -> None:
    srv = serve({"/v": send_bytes(b"x")})
    fake_dns({"flip.test": ["93.184.216.34", "127.0.0.1"]})
    check_url("http://flip.test/v", allow_private=False)  # first answer: public
    with guarded_session(allow_private=False, max_redirects=0) as s, pytest.raises(UrlRefused):
        s.get(srv.url("/v", host="flip.test"), timeout=5)  # the connect-time check sees 127.0.0.1
    assert srv.hits == []


def test_https_pinned_ip_keeps_sni_and_certificate_name(serve, fake_dns, tls_cert) -> None:
    cert, key = tls_cert
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = serve({"/v": send_bytes(b"tls ok")}, tls=ctx)
    fake_dns({"video.test": ["127.0.0.1"]})
    with guarded_session(allow_private=True, max_redirects=0) as s:
        r = s.get(srv.url("/v", host="video.test"), timeout=5, verify=str(cert))
        assert r.content == b"tls ok"
        # the certificate is for video.test only: reaching the same server by IP fails verification
        with pytest.raises(requests.exceptions.SSLError):
            s.get(srv.url("/v"), timeout=5, verify=str(cert))
    assert srv.sni[0] == "video.test"
    assert srv.hits[0] == ("/v", f"video.test:{srv.port}")


def test_closed_port_is_a_connection_error() -> None:
    with guarded_session(allow_private=True, max_redirects=0) as s, pytest.raises(requests.ConnectionError):
        s.get(f"http://127.0.0.1:{closed_port()}/", timeout=5)
