"""Envelope encryption of tokens (local key and KMS under moto) and the per-platform limits."""

from __future__ import annotations

import base64
import dataclasses
import json
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from chalicelib.publishing import tokens as tc
from chalicelib.publishing.errors import LimitExceeded
from chalicelib.publishing.limits import check_clip, check_publish_request, pick_rendition, resolve_target

SECRET = {"access_token": "ya29.SECRET-ACCESS", "refresh_token": "1//SECRET-REFRESH", "expires_at": 1.0,
          "extra": {"channel": "UC1"}}


def envelope(blob: str) -> dict:
    return json.loads(base64.b64decode(blob))


def test_local_roundtrip_hides_tokens_and_uses_fresh_data_keys(settings):
    a = tc.encrypt_tokens(SECRET, "sa_1", settings)
    b = tc.encrypt_tokens(SECRET, "sa_1", settings)
    assert tc.decrypt_tokens(a, "sa_1", settings) == SECRET
    assert a != b and envelope(a)["wk"] != envelope(b)["wk"]  # a new data key per blob
    raw = base64.b64decode(a)
    assert b"SECRET" not in raw and b"SECRET" not in base64.b64decode(envelope(a)["ct"])
    assert envelope(a)["kek"] == "local"


def test_blob_is_bound_to_its_account_and_key(settings):
    blob = tc.encrypt_tokens(SECRET, "sa_1", settings)
    with pytest.raises(tc.TokenCryptoError):
        tc.decrypt_tokens(blob, "sa_2", settings)
    other = dataclasses.replace(settings, token_encryption_key=tc.generate_local_key())
    with pytest.raises(tc.TokenCryptoError):
        tc.decrypt_tokens(blob, "sa_1", other)
    env = envelope(blob)
    ct = bytearray(base64.b64decode(env["ct"]))
    ct[0] ^= 1
    env["ct"] = base64.b64encode(bytes(ct)).decode()
    tampered = base64.b64encode(json.dumps(env).encode()).decode()
    with pytest.raises(tc.TokenCryptoError) as info:
        tc.decrypt_tokens(tampered, "sa_1", settings)
    assert "SECRET" not in str(info.value)
    with pytest.raises(tc.TokenCryptoError):
        tc.decrypt_tokens("not base64!", "sa_1", settings)


def test_missing_local_key_is_a_clear_error(settings):
    with pytest.raises(tc.TokenCryptoError, match="KLIPSTAR_TOKEN_ENCRYPTION_KEY"):
        tc.encrypt_tokens(SECRET, "sa_1", dataclasses.replace(settings, token_encryption_key=""))


@mock_aws
def test_kms_wraps_the_data_key(settings):
    tc.kms_client.cache_clear()
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    aws = dataclasses.replace(settings, env="prod", kms_key_id=key_id, token_encryption_key="")
    blob = tc.encrypt_tokens(SECRET, "sa_9", aws)
    assert envelope(blob)["kek"] == "kms"
    assert tc.decrypt_tokens(blob, "sa_9", aws) == SECRET
    # the wrapped key really is a KMS ciphertext under that key and context
    plain = boto3.client("kms", region_name="us-east-1").decrypt(
        CiphertextBlob=base64.b64decode(envelope(blob)["wk"]),
        EncryptionContext={"purpose": tc.PURPOSE, "social_account_id": "sa_9"},
    )
    assert len(plain["Plaintext"]) == 32 and plain["KeyId"].endswith(key_id)
    tc.kms_client.cache_clear()


# --- limits --------------------------------------------------------------------------------------------


def test_targets_and_aliases():
    assert resolve_target("youtube").name == "youtube_shorts"
    assert resolve_target("instagram").account_platform == "instagram"
    with pytest.raises(LimitExceeded) as info:
        resolve_target("myspace")
    assert info.value.code == "unknown_platform"


@pytest.mark.parametrize(
    ("target", "kw", "code"),
    [
        ("youtube_shorts", dict(duration=181, width=1080, height=1920), "clip_too_long"),
        ("youtube_shorts", dict(duration=30, width=1920, height=1080), "wrong_aspect"),
        ("reels", dict(duration=2, width=1080, height=1920), "clip_too_short"),
        ("reels", dict(duration=30, width=1080, height=1920, size_bytes=301 * 1024**2), "file_too_large"),
        ("tiktok", dict(duration=601, width=1080, height=1920), "clip_too_long"),
        ("tiktok", dict(duration=30, width=240, height=426), "video_too_small"),
    ],
)
def test_limits_refuse(target, kw, code):
    with pytest.raises(LimitExceeded) as info:
        check_clip(resolve_target(target), **kw)
    assert info.value.code == code


def test_limits_accept_a_normal_short():
    for name in ("youtube_shorts", "tiktok", "reels"):
        check_clip(resolve_target(name), duration=59.5, width=1080, height=1920, size_bytes=40 * 1024**2)


def test_publish_request_check_for_the_api():
    clip = SimpleNamespace(duration_seconds=200.0,
                           renditions={"youtube_shorts": {"width": 1080, "height": 1920, "key": "k"}})
    with pytest.raises(LimitExceeded) as info:
        check_publish_request("youtube_shorts", "public", clip)
    assert info.value.code == "clip_too_long" and "180" in info.value.message
    clip.duration_seconds = 45.0
    assert check_publish_request("tiktok", "private", clip).name == "tiktok"  # shared 1080x1920 render
    with pytest.raises(LimitExceeded) as info:
        check_publish_request("reels", "unlisted", clip)
    assert info.value.code == "privacy_not_allowed"
    with pytest.raises(LimitExceeded):
        pick_rendition(resolve_target("reels"), {"youtube": {"width": 1920, "height": 1080, "key": "k"}})
