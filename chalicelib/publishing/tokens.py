"""Envelope encryption of social accounts' OAuth tokens (SocialAccount.encrypted_tokens).

Each blob has its own random 256-bit data key; the tokens JSON is sealed with AES-GCM under it, with the
social account id as associated data (a blob copied onto another account does not decrypt). The data key
is wrapped by KMS (kms_key_id set: boto3 kms encrypt/decrypt with an encryption context) or, in local mode,
by AES-GCM under settings.token_encryption_key. The stored value is base64 of a small JSON envelope:

    {"v": 1, "kek": "kms"|"local", "wk": wrapped key, "n": nonce, "ct": ciphertext}   (binary fields base64)
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..settings import Settings, get_settings

VERSION = 1
PURPOSE = "klipstar-social-tokens"


class TokenCryptoError(Exception):
    """Tokens could not be sealed or opened (missing/wrong key, tampered blob). Never carries token text."""

    code = "token_crypto_error"


def generate_local_key() -> str:
    """A fresh base64 key for KLIPSTAR_TOKEN_ENCRYPTION_KEY."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


@functools.lru_cache(maxsize=4)
def kms_client(region: str) -> Any:
    """The boto3 KMS client (created on first use only, so local mode never needs AWS)."""
    return boto3.client("kms", region_name=region)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def _local_kek(settings: Settings) -> bytes:
    if not settings.token_encryption_key:
        raise TokenCryptoError("no token key: set KLIPSTAR_KMS_KEY_ID (AWS) or KLIPSTAR_TOKEN_ENCRYPTION_KEY")
    try:
        key = _unb64(settings.token_encryption_key)
    except (binascii.Error, ValueError):
        raise TokenCryptoError("KLIPSTAR_TOKEN_ENCRYPTION_KEY is not base64") from None
    if len(key) not in (16, 24, 32):
        raise TokenCryptoError("KLIPSTAR_TOKEN_ENCRYPTION_KEY must decode to 16, 24 or 32 bytes")
    return key


def _context(account_id: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "social_account_id": account_id}


def _wrap(data_key: bytes, account_id: str, settings: Settings) -> tuple[str, bytes]:
    if settings.kms_key_id:
        out = kms_client(settings.aws_region).encrypt(
            KeyId=settings.kms_key_id, Plaintext=data_key, EncryptionContext=_context(account_id)
        )
        return "kms", out["CiphertextBlob"]
    nonce = os.urandom(12)
    wrapped = AESGCM(_local_kek(settings)).encrypt(nonce, data_key, f"{PURPOSE}:{account_id}".encode())
    return "local", nonce + wrapped


def _unwrap(kek: str, wrapped: bytes, account_id: str, settings: Settings) -> bytes:
    if kek == "kms":
        try:
            out = kms_client(settings.aws_region).decrypt(
                CiphertextBlob=wrapped, EncryptionContext=_context(account_id)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise TokenCryptoError(f"KMS refused to unwrap the token data key ({code})") from None
        return out["Plaintext"]
    if kek == "local":
        try:
            return AESGCM(_local_kek(settings)).decrypt(wrapped[:12], wrapped[12:], f"{PURPOSE}:{account_id}".encode())
        except InvalidTag:
            raise TokenCryptoError("token data key does not open with the configured local key") from None
    raise TokenCryptoError(f"unknown key wrapping {kek!r}")


def encrypt_tokens(tokens: dict[str, Any], account_id: str, settings: Settings | None = None) -> str:
    """Seal `tokens` (JSON-serialisable) for the social account `account_id`."""
    settings = settings or get_settings()
    data_key = AESGCM.generate_key(bit_length=256)
    kek, wrapped = _wrap(data_key, account_id, settings)
    nonce = os.urandom(12)
    plaintext = json.dumps(tokens, separators=(",", ":")).encode()
    ct = AESGCM(data_key).encrypt(nonce, plaintext, account_id.encode())
    envelope = {"v": VERSION, "kek": kek, "wk": _b64(wrapped), "n": _b64(nonce), "ct": _b64(ct)}
    return _b64(json.dumps(envelope, separators=(",", ":")).encode())


def decrypt_tokens(blob: str, account_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Open a blob made by `encrypt_tokens` for the same `account_id`."""
    settings = settings or get_settings()
    try:
        envelope = json.loads(_unb64(blob))
        if envelope.get("v") != VERSION:
            raise TokenCryptoError("unsupported token envelope version")
        wrapped, nonce, ct = _unb64(envelope["wk"]), _unb64(envelope["n"]), _unb64(envelope["ct"])
        kek = str(envelope["kek"])
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise TokenCryptoError("token envelope is malformed") from None
    data_key = _unwrap(kek, wrapped, account_id, settings)
    try:
        plaintext = AESGCM(data_key).decrypt(nonce, ct, account_id.encode())
    except InvalidTag:
        raise TokenCryptoError("token envelope failed authentication (tampered or another account's)") from None
    return json.loads(plaintext)
