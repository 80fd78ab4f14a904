"""Envelope encryption of small secrets at rest (social OAuth tokens, webhook signing secrets).

Each blob has its own random 256-bit data key; the JSON payload is sealed with AES-GCM under it, with the
owner's id as associated data (a blob copied onto another row does not decrypt). The data key is wrapped
by KMS (kms_key_id set: boto3 kms encrypt/decrypt with an encryption context naming the purpose and the
owner) or, in local mode, by AES-GCM under settings.token_encryption_key. The stored value is base64 of
a small JSON envelope:

    {"v": 1, "kek": "kms"|"local", "wk": wrapped key, "n": nonce, "ct": ciphertext}   (binary fields base64)
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..settings import Settings, get_settings

VERSION = 1


class SealError(Exception):
    """A blob could not be sealed or opened (missing/wrong key, tampered blob). Never carries secret text."""

    code = "seal_error"


@dataclass(frozen=True)
class Purpose:
    """What a blob holds (`name`, bound into KMS's context and the local wrapping) and how its owner is named."""

    name: str
    owner_field: str


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
        raise SealError("no encryption key: set KLIPSTAR_KMS_KEY_ID (AWS) or KLIPSTAR_TOKEN_ENCRYPTION_KEY")
    try:
        key = _unb64(settings.token_encryption_key)
    except (binascii.Error, ValueError):
        raise SealError("KLIPSTAR_TOKEN_ENCRYPTION_KEY is not base64") from None
    if len(key) not in (16, 24, 32):
        raise SealError("KLIPSTAR_TOKEN_ENCRYPTION_KEY must decode to 16, 24 or 32 bytes")
    return key


def _context(purpose: Purpose, owner: str) -> dict[str, str]:
    return {"purpose": purpose.name, purpose.owner_field: owner}


def _wrap(data_key: bytes, purpose: Purpose, owner: str, settings: Settings) -> tuple[str, bytes]:
    if settings.kms_key_id:
        out = kms_client(settings.aws_region).encrypt(
            KeyId=settings.kms_key_id, Plaintext=data_key, EncryptionContext=_context(purpose, owner)
        )
        return "kms", out["CiphertextBlob"]
    nonce = os.urandom(12)
    wrapped = AESGCM(_local_kek(settings)).encrypt(nonce, data_key, f"{purpose.name}:{owner}".encode())
    return "local", nonce + wrapped


def _unwrap(kek: str, wrapped: bytes, purpose: Purpose, owner: str, settings: Settings) -> bytes:
    if kek == "kms":
        try:
            out = kms_client(settings.aws_region).decrypt(
                CiphertextBlob=wrapped, EncryptionContext=_context(purpose, owner)
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise SealError(f"KMS refused to unwrap the data key ({code})") from None
        return out["Plaintext"]
    if kek == "local":
        try:
            return AESGCM(_local_kek(settings)).decrypt(wrapped[:12], wrapped[12:], f"{purpose.name}:{owner}".encode())
        except InvalidTag:
            raise SealError("data key does not open with the configured local key") from None
    raise SealError(f"unknown key wrapping {kek!r}")


def seal(data: Any, purpose: Purpose, owner: str, settings: Settings | None = None) -> str:
    """Seal `data` (JSON-serialisable) for `owner` (e.g. a social account or webhook endpoint id)."""
    settings = settings or get_settings()
    data_key = AESGCM.generate_key(bit_length=256)
    kek, wrapped = _wrap(data_key, purpose, owner, settings)
    nonce = os.urandom(12)
    plaintext = json.dumps(data, separators=(",", ":")).encode()
    ct = AESGCM(data_key).encrypt(nonce, plaintext, owner.encode())
    envelope = {"v": VERSION, "kek": kek, "wk": _b64(wrapped), "n": _b64(nonce), "ct": _b64(ct)}
    return _b64(json.dumps(envelope, separators=(",", ":")).encode())


def unseal(blob: str, purpose: Purpose, owner: str, settings: Settings | None = None) -> Any:
    """Open a blob made by `seal` for the same purpose and owner."""
    settings = settings or get_settings()
    try:
        envelope = json.loads(_unb64(blob))
        if envelope.get("v") != VERSION:
            raise SealError("unsupported envelope version")
        wrapped, nonce, ct = _unb64(envelope["wk"]), _unb64(envelope["n"]), _unb64(envelope["ct"])
        kek = str(envelope["kek"])
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise SealError("envelope is malformed") from None
    data_key = _unwrap(kek, wrapped, purpose, owner, settings)
    try:
        plaintext = AESGCM(data_key).decrypt(nonce, ct, owner.encode())
    except InvalidTag:
        raise SealError("envelope failed authentication (tampered or another owner's)") from None
    return json.loads(plaintext)
