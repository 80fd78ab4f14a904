"""Envelope encryption of social accounts' OAuth tokens (SocialAccount.encrypted_tokens).

The envelope itself is the data layer's (chalicelib.data.sealing): a random data key per blob, AES-GCM
with the social account id as associated data, the data key wrapped by KMS or the local key.
"""

from __future__ import annotations

from typing import Any

from ..data.sealing import Purpose, SealError, generate_local_key, kms_client, seal, unseal
from ..settings import Settings

PURPOSE = "klipstar-social-tokens"
_SEALED = Purpose(PURPOSE, "social_account_id")

__all__ = ["PURPOSE", "TokenCryptoError", "decrypt_tokens", "encrypt_tokens", "generate_local_key", "kms_client"]


class TokenCryptoError(SealError):
    """Tokens could not be sealed or opened (missing/wrong key, tampered blob). Never carries token text."""

    code = "token_crypto_error"


def encrypt_tokens(tokens: dict[str, Any], account_id: str, settings: Settings | None = None) -> str:
    """Seal `tokens` (JSON-serialisable) for the social account `account_id`."""
    try:
        return seal(tokens, _SEALED, account_id, settings)
    except SealError as exc:
        raise TokenCryptoError(str(exc)) from None


def decrypt_tokens(blob: str, account_id: str, settings: Settings | None = None) -> dict[str, Any]:
    """Open a blob made by `encrypt_tokens` for the same `account_id`."""
    try:
        return dict(unseal(blob, _SEALED, account_id, settings))
    except SealError as exc:
        raise TokenCryptoError(str(exc)) from None
