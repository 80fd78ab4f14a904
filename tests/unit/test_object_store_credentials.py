"""The object-store keys really sign: with KLIPSTAR_S3_* set as for Cloudflare R2, a presigned URL
carries those keys' SigV4 signature, recomputed here by hand (hmac/hashlib, no botocore); and on AWS
the same keys come from Secrets Manager (read once at cold start) instead of environment variables."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, quote, urlsplit

import boto3
import pytest
from moto import mock_aws

from chalicelib.data import storage
from chalicelib.settings import get_settings

R2 = {
    "KLIPSTAR_S3_ENDPOINT_URL": "https://0123456789abcdef.r2.cloudflarestorage.com",
    "KLIPSTAR_S3_REGION": "auto",
    "KLIPSTAR_BUCKET": "klipstar-media",
}
ACCESS_KEY, SECRET_KEY = "R2ACCESSKEYEXAMPLE0001", "r2-secret-key-example-0123456789abcdefghij"


@pytest.fixture
def r2_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name, value in R2.items():
        monkeypatch.setenv(name, value)
    # other credentials in the default chain: the URL must not be signed with these
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEFAULTCHAIN0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "default-chain-secret")
    for name in ("KLIPSTAR_S3_ACCESS_KEY_ID", "KLIPSTAR_S3_SECRET_ACCESS_KEY", "KLIPSTAR_S3_CREDENTIALS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    get_settings.cache_clear()
    storage.s3_client.cache_clear()


def _fresh_url(key: str) -> str:
    get_settings.cache_clear()
    storage.s3_client.cache_clear()
    return storage.presign_get(key, expires_in=600)


def verify_sigv4_query(url: str, secret_key: str) -> dict[str, str]:
    """Recompute an S3 presigned GET's SigV4 signature (AWS's documented algorithm); return its params."""
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = params.pop("X-Amz-Signature")
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and params["X-Amz-SignedHeaders"] == "host"
    enc = lambda s: quote(s, safe="-_.~")  # noqa: E731
    canonical_query = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    canonical = "\n".join(["GET", parts.path, canonical_query, f"host:{parts.netloc}\n", "host", "UNSIGNED-PAYLOAD"])
    access_key, date, region, service, term = params["X-Amz-Credential"].split("/")
    scope = f"{date}/{region}/{service}/{term}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (date, region, service, term):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, signature), "signature does not verify with these keys"
    return {**params, "access_key": access_key, "region": region}


def test_presigned_url_is_signed_with_the_configured_r2_keys(r2_env: pytest.MonkeyPatch) -> None:
    r2_env.setenv("KLIPSTAR_S3_ACCESS_KEY_ID", ACCESS_KEY)
    r2_env.setenv("KLIPSTAR_S3_SECRET_ACCESS_KEY", SECRET_KEY)
    url = _fresh_url("acct/proj_1/clips/clip_1/1080x1920.mp4")
    assert url.startswith(R2["KLIPSTAR_S3_ENDPOINT_URL"] + "/klipstar-media/acct/proj_1/clips/")
    params = verify_sigv4_query(url, SECRET_KEY)
    assert params["access_key"] == ACCESS_KEY and params["region"] == "auto"
    with pytest.raises(AssertionError, match="does not verify"):  # and not with the default chain's secret
        verify_sigv4_query(url, "default-chain-secret")


def test_r2_keys_come_from_secrets_manager_on_aws(r2_env: pytest.MonkeyPatch) -> None:
    r2_env.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="klipstar/prod/r2",
            SecretString=json.dumps({"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}))["ARN"]
        r2_env.setenv("KLIPSTAR_S3_CREDENTIALS_SECRET", arn)
        url = _fresh_url("acct/proj_1/source.mp4")
        settings = get_settings()
    assert settings.s3_access_key_id == ACCESS_KEY  # filled in at cold start
    assert verify_sigv4_query(url, SECRET_KEY)["access_key"] == ACCESS_KEY
    assert SECRET_KEY not in json.dumps(settings.redacted())


def test_without_any_secret_named_nothing_is_fetched(r2_env: pytest.MonkeyPatch) -> None:
    """Local mode: values from the environment, no Secrets Manager call (none is reachable here)."""
    r2_env.setenv("KLIPSTAR_KEY_PEPPER", "local-pepper")
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.key_pepper == "local-pepper" and settings.key_pepper_secret == ""
