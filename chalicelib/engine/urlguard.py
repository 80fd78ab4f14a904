"""The address guard for every URL Klipstar fetches or calls (video sources, webhooks).

A URL is refused unless its scheme is http/https (file:// only when private addresses are allowed)
and EVERY address its host resolves to is public. Cloud metadata endpoints are refused always.
`guarded_session()` goes further: each request (including every redirect hop) is resolved and checked
at send time, and the connection is pinned to the vetted IP (Host header and TLS SNI/certificate
check keep the original name), so a DNS answer that changes between check and connect (rebinding)
cannot reach a private address.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .errors import UrlRefused, UrlUnreachable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"}
)
METADATA_IPS = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("169.254.170.2"),  # ECS task metadata
        ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one (mapped, 6to4, NAT64, Teredo client), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_metadata_ip(ip: IPAddress) -> bool:
    inner = _embedded_ipv4(ip)
    return ip in METADATA_IPS or (inner is not None and inner in METADATA_IPS)


def is_public_ip(ip: IPAddress) -> bool:
    """False for private, loopback, link-local, multicast, reserved, unspecified, CGNAT and metadata.

    IPv6 addresses that embed an IPv4 address (mapped, 6to4, NAT64, Teredo) are judged by it too.
    """
    inner = _embedded_ipv4(ip)
    if inner is not None and _not_public(inner):
        return False
    return not _not_public(ip)


def _not_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return True
    return (
        is_metadata_ip(ip)
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT)
        or not ip.is_global
    )


def ip_allowed(ip: IPAddress, allow_private: bool) -> bool:
    """Whether a connection to `ip` is allowed (metadata never is)."""
    if is_metadata_ip(ip):
        return False
    return allow_private or is_public_ip(ip)


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower().strip("[]")


def resolve_and_check(host: str, port: int, allow_private: bool) -> list[str]:
    """Resolve `host` and return its addresses if every one is allowed; raise UrlRefused otherwise.

    Raises UrlUnreachable when the name does not resolve.
    """
    name = _normalise_host(host)
    if not name:
        raise UrlRefused("the URL has no host")
    if name in METADATA_HOSTS:
        raise UrlRefused(f"{host} is a cloud metadata endpoint")
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UrlUnreachable(f"cannot resolve {host}: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        ip = ipaddress.ip_address(raw)
        if not ip_allowed(ip, allow_private):
            kind = "a cloud metadata" if is_metadata_ip(ip) else "a private or reserved"
            raise UrlRefused(f"{host} resolves to {kind} address")  # never the address: no map of names
        if raw not in addresses:
            addresses.append(raw)
    if not addresses:
        raise UrlUnreachable(f"cannot resolve {host}")
    return addresses


def check_url(url: str, allow_private: bool) -> None:
    """Raise UrlRefused unless `url` may be fetched (scheme allowed, every resolved address allowed)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise UrlRefused("malformed URL") from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        if not allow_private:
            raise UrlRefused("file:// URLs are only allowed when private addresses are allowed")
        return
    if scheme not in ("http", "https"):
        raise UrlRefused(f"URL scheme {scheme or '(none)'!r} is not allowed (use http or https)")
    if parts.username or parts.password:
        raise UrlRefused("URLs with credentials are not allowed")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UrlRefused(f"bad port in URL {url!r}") from None
    resolve_and_check(parts.hostname or "", port, allow_private)


class GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter that vets the destination on every send and connects to the vetted IP only."""

    def __init__(self, allow_private: bool, **kwargs: Any) -> None:
        self.allow_private = allow_private
        super().__init__(**kwargs)

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if parts.scheme.lower() not in ("http", "https"):
            raise UrlRefused(f"URL scheme {parts.scheme!r} is not allowed")
        if parts.username or parts.password:
            raise UrlRefused("URLs with credentials are not allowed")
        # Host always follows the URL being sent (a redirect to another host must not keep the old one).
        request.headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        kwargs["proxies"] = {}
        return super().send(request, *args, **kwargs)

    def get_connection_with_tls_context(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: dict[str, str] | None = None,
        cert: Any = None,
    ) -> Any:
        host_params, pool_kwargs = self.build_connection_pool_key_attributes(request, verify, cert)
        host = _normalise_host(str(host_params["host"]))
        port = int(host_params.get("port") or (443 if host_params["scheme"] == "https" else 80))
        ip = resolve_and_check(host, port, self.allow_private)[0]
        pinned = f"[{ip}]" if ":" in ip else ip
        if host_params["scheme"] == "https":
            pool_kwargs = {**pool_kwargs, "server_hostname": host, "assert_hostname": host}
        host_params = {**host_params, "host": pinned, "port": port}
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)


def guarded_session(allow_private: bool, max_redirects: int) -> requests.Session:
    """A requests.Session whose every request and redirect hop passes the address guard.

    Connections go to the IP that was checked; environment proxies are ignored; at most
    `max_redirects` redirects are followed (requests.TooManyRedirects beyond).
    """
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = max_redirects
    adapter = GuardedAdapter(allow_private)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
