"""Webhook signatures, two ways on every delivery (one v1 entry per active secret while a secret rotates):

- `Klipstar-Signature: t=<unix seconds>,v1=<hex>`: HMAC-SHA256 keyed with the secret string over
  "<timestamp>.<body>";
- Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
  `webhook-signature: v1,<base64> [v1,<base64>]`, HMAC-SHA256 keyed with the base64 part of "whsec_…"
  over "<id>.<timestamp>.<body>" (signed by the `standardwebhooks` package itself).

Receivers verify in a few lines:

    from chalicelib.webhooks.signing import verify_signature
    if not verify_signature(secret, request.headers["Klipstar-Signature"], request.body):
        return 400
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks import Webhook, WebhookVerificationError

SIGNATURE_HEADER = "Klipstar-Signature"
EVENT_ID_HEADER = "Klipstar-Event-Id"
EVENT_TYPE_HEADER = "Klipstar-Event"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"
DEFAULT_TOLERANCE = 300


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(int(timestamp)).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else bytes(body)


def sign(secret: str, timestamp: int, body: bytes | str) -> str:
    """The Klipstar-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={int(timestamp)},v1={_digest(secret, timestamp, _as_bytes(body))}"


def sign_all(secrets: list[str], timestamp: int, body: bytes | str) -> str:
    """Klipstar-Signature with one v1 entry per secret (the current one first)."""
    digests = ",".join(f"v1={_digest(s, timestamp, _as_bytes(body))}" for s in secrets)
    return f"t={int(timestamp)},{digests}"


def standard_headers(secrets: list[str], message_id: str, timestamp: int, body: bytes | str) -> dict[str, str]:
    """The Standard Webhooks headers for `body`, signed by every secret in `secrets`."""
    text = _as_bytes(body).decode()
    at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    signatures = " ".join(Webhook(s).sign(message_id, at, text) for s in secrets)
    return {STANDARD_ID_HEADER: message_id, STANDARD_TIMESTAMP_HEADER: str(int(timestamp)),
            STANDARD_SIGNATURE_HEADER: signatures}


def verify_standard(secret: str, headers: Mapping[str, str], body: bytes | str) -> bool:
    """True if the Standard Webhooks headers sign `body` with `secret` (5-minute tolerance)."""
    try:
        Webhook(secret).verify(_as_bytes(body), {k.lower(): v for k, v in headers.items()}, json_parse=False)
    except (WebhookVerificationError, ValueError):
        return False
    return True


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
