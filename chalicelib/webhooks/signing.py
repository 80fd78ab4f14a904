"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>" with the account's signing secret.

Header: `Klipstar-Signature: t=<unix seconds>,v1=<hex digest>` (several v1 entries may appear while a
secret is rotated). Receivers verify in a few lines:

    from chalicelib.webhooks.signing import verify_signature
    if not verify_signature(secret, request.headers["Klipstar-Signature"], request.body):
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Klipstar-Signature"
EVENT_ID_HEADER = "Klipstar-Event-Id"
EVENT_TYPE_HEADER = "Klipstar-Event"
DEFAULT_TOLERANCE = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def sign(secret: str, timestamp: int, body: bytes | str) -> str:
    """The Klipstar-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},v1={_digest(secret, timestamp, _as_bytes(body))}"


def parse_header(header: str) -> tuple[int | None, list[str]]:
    """(timestamp, [v1 signatures]) from a header value; (None, []) when malformed."""
    timestamp: int | None = None
    signatures: list[str] = []
    for part in (header or "").split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify_signature(
    secret: str, header: str, body: bytes | str, tolerance: int = DEFAULT_TOLERANCE, *, now: float | None = None
) -> bool:
    """True if `header` signs `body` with `secret` and its timestamp is within `tolerance` seconds of now."""
    timestamp, signatures = parse_header(header)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if tolerance and abs(current - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, _as_bytes(body))
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
