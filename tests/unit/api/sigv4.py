"""Check a SigV4 presigned S3 URL the way S3 does: recompute the signature for a given HTTP method."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def presigned_signature_valid(url: str, method: str, secret_key: str, headers: dict[str, str] | None = None) -> bool:
    """True when `url`'s X-Amz-Signature is the SigV4 signature of (method, path, query, signed headers)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    params = dict(query)
    signature = params.pop("X-Amz-Signature")
    signed_names = params["X-Amz-SignedHeaders"].split(";")
    all_headers = {"host": parts.netloc, **{k.lower(): v for k, v in (headers or {}).items()}}
    canonical_headers = "".join(f"{name}:{all_headers[name].strip()}\n" for name in signed_names)
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items())
    )
    canonical_request = "\n".join([
        method, quote(parts.path, safe="/-_.~%"), canonical_query, canonical_headers,
        params["X-Amz-SignedHeaders"], "UNSIGNED-PAYLOAD",
    ])
    date, region, service, _ = params["X-Amz-Credential"].split("/")[1:]
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical_request.encode()).hexdigest()])
    k = _sign(("AWS4" + secret_key).encode(), date)
    k = _sign(k, region)
    k = _sign(k, service)
    k = _sign(k, "aws4_request")
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
