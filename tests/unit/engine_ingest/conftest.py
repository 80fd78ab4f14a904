"""Loopback HTTP(S) servers for the ingest and URL-guard tests (no network: 127.0.0.x only)."""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class LoopServer:
    """A threaded HTTP server on a loopback address; `hits` records (path, Host header, SNI)."""

    host: str
    port: int
    routes: dict[str, Route]
    scheme: str = "http"
    hits: list[tuple[str, str]] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"


def _handler(server: LoopServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            return None

        def do_GET(self) -> None:
            server.hits.append((self.path, self.headers.get("Host", "")))
            route = server.routes.get(self.path.split("?")[0])
            if route is None:
                prefix = next((p for p in server.routes if p.endswith("*") and self.path.startswith(p[:-1])), None)
                route = server.routes.get(prefix) if prefix else None
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                route(self)

    return Handler


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients that hang up early (size caps, refusals) are expected: no tracebacks on stderr."""

    def handle_error(self, request: object, client_address: object) -> None:
        return None


def start_server(routes: dict[str, Route], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> tuple:
    state = LoopServer(host=host, port=0, routes=routes, scheme="https" if tls else "http")
    httpd = _QuietServer((host, 0), _handler(state))
    httpd.daemon_threads = True
    if tls is not None:
        tls.sni_callback = lambda sock, name, ctx: state.sni.append(name)  # type: ignore[assignment]
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return state, httpd


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopServer]]:
    """serve(routes, host='127.0.0.1', tls=None) -> LoopServer; stopped after the test."""
    started: list[http.server.ThreadingHTTPServer] = []

    def make(routes: dict[str, Route], host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> LoopServer:
        state, httpd = start_server(routes, host, tls)
        started.append(httpd)
        return state

    yield make
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def send_bytes(data: bytes, content_type: str = "video/mp4", *, length: bool = True) -> Route:
    """A route answering 200 with `data` (chunked transfer when length=False)."""

    def route(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        if length:
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
            return
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(data), 65536):
            piece = data[i : i + 65536]
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    return route


def redirect(location: str | Callable[[str], str], status: int = 302) -> Route:
    def route(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", location(h.path) if callable(location) else location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def slow(seconds: float) -> Route:
    def route(h: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        with contextlib.suppress(OSError):
            h.send_response(200)
            h.send_header("Content-Length", "0")
            h.end_headers()

    return route


def closed_port() -> int:
    """A loopback port with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate (cert.pem, key.pem) for the name video.test only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "video.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("video.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, list[str]]], list[str]]:
    """fake_dns({name: [answer per lookup...]}): names resolve to the next listed address each lookup
    (the last one repeats); other names use the real resolver. Returns the list of looked-up names."""
    real = socket.getaddrinfo
    looked_up: list[str] = []

    def install(table: dict[str, list[str]]) -> list[str]:
        answers = {k: list(v) for k, v in table.items()}

        def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
            name = host.decode() if isinstance(host, bytes) else host
            if name in answers:
                looked_up.append(name)
                queue = answers[name]
                record = queue.pop(0) if len(queue) > 1 else queue[0]
                out = []
                for addr in record.split(","):  # "a,b" = several A/AAAA records in one answer
                    fam = socket.AF_INET6 if ipaddress.ip_address(addr).version == 6 else socket.AF_INET
                    out.append((fam, socket.SOCK_STREAM, 6, "", (addr, port or 0)))
                return out
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return looked_up

    return install


def drip(head: bytes, interval: float, *, for_seconds: float = 30.0) -> Route:
    """A route that sends `head`, then one byte every `interval` seconds (a source that never quite stalls)."""

    def route(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "video/mp4")
        h.send_header("Content-Length", str(len(head) + int(for_seconds / interval)))
        h.end_headers()
        h.wfile.write(head)
        h.wfile.flush()
        ends = time.monotonic() + for_seconds
        while time.monotonic() < ends:
            time.sleep(interval)
            h.wfile.write(b"\x00")
            h.wfile.flush()

    return route


@pytest.fixture
def public_127_0_0_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.2 plays a public host for the guard; every other loopback address stays private."""
    from chalicelib.engine import urlguard

    real = urlguard._not_public
    monkeypatch.setattr(urlguard, "_not_public", lambda ip: ip != ipaddress.ip_address("127.0.0.2") and real(ip))


@pytest.fixture
def test_site(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Install the test video site's extractor first in yt-dlp's list; yields its KLIPSTAR_YTDLP_EXTRACTORS name."""
    from yt_dlp import globals as ytdlp_globals
    from yt_dlp.extractor import gen_extractor_classes

    from .ytdlp_site import NAME, KlipstarTestIE

    gen_extractor_classes()  # load the built-in list first
    installed = {"KlipstarTestIE": KlipstarTestIE, **ytdlp_globals.extractors.value}
    monkeypatch.setattr(ytdlp_globals.extractors, "value", installed)
    yield NAME
