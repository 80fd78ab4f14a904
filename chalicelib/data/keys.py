"""API keys: minting, keyed hashing (HMAC-SHA256 with a server-side pepper), lookup and revocation.

A key looks like `ks_live_<32 base62>` or `ks_test_<32 base62>`; only its HMAC is stored, so a leaked
table reveals no usable key. Live and test keys of one account see separate data (tenant = account#mode).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import dataclass

from ..settings import get_settings
from .models import Account, ApiKey, utcnow

KEY_PREFIXES: dict[str, str] = {"live": "ks_live_", "test": "ks_test_"}
PLANS: tuple[str, ...] = ("spark", "creator", "studio")
_ALPHABET = string.ascii_letters + string.digits
_SECRET_LEN = 32
_DEV_PEPPER = "klipstar-dev-pepper-not-for-production"


class KeyConfigError(RuntimeError):
    """The server is not configured to hash keys (no pepper in prod)."""


def _pepper() -> bytes:
    settings = get_settings()
    if settings.key_pepper:
        return settings.key_pepper.encode()
    if settings.env == "prod":
        raise KeyConfigError("KLIPSTAR_KEY_PEPPER must be set in prod")
    return _DEV_PEPPER.encode()


def hash_key(key: str) -> str:
    """Hex HMAC-SHA256(pepper, key): the only form of a key that is ever stored."""
    return hmac.new(_pepper(), key.encode(), hashlib.sha256).hexdigest()


def mode_of(key: str) -> str | None:
    """`live` or `test` from the key's prefix, or None when it is not a well-formed Klipstar key."""
    for mode, prefix in KEY_PREFIXES.items():
        secret = key[len(prefix) :]
        if key.startswith(prefix) and len(secret) == _SECRET_LEN and all(c in _ALPHABET for c in secret):
            return mode
    return None


@dataclass(frozen=True)
class MintedKey:
    key: str  # shown once, never stored
    record: ApiKey


def ensure_account(account_id: str, plan: str | None = None) -> Account:
    """Get or create the account; set its plan when given."""
    if plan is not None and plan not in PLANS:
        raise ValueError(f"unknown plan {plan!r} (known: {', '.join(PLANS)})")
    try:
        account = Account.get(account_id)
    except Account.DoesNotExist:
        account = Account(account_id, plan=plan or "spark")  # signing secrets: sealed per mode on first use
        account.save(condition=Account.account_id.does_not_exist())
        return account
    if plan is not None and account.plan != plan:
        account.update(actions=[Account.plan.set(plan)])
    return account


def create_key(account_id: str, mode: str = "live", plan: str | None = None, key: str | None = None) -> MintedKey:
    """Mint a key for `account_id` (creating the account if needed) and store only its hash.

    `key` registers a caller-chosen key instead (the local service's KLIPSTAR_LOCAL_API_KEY).
    """
    if mode not in KEY_PREFIXES:
        raise ValueError(f"mode must be live or test, got {mode!r}")
    if key is not None and mode_of(key) != mode:
        raise ValueError(f"a {mode} key must start with {KEY_PREFIXES[mode]}")
    key = key or KEY_PREFIXES[mode] + "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LEN))
    digest = hash_key(key)  # before any write: no pepper in prod fails here, not after the account row
    ensure_account(account_id, plan)
    record = ApiKey(
        digest,
        key_id="key_" + secrets.token_hex(8),
        prefix=key[: len(KEY_PREFIXES[mode]) + 4],
        account_id=account_id,
        mode=mode,
    )
    record.save(condition=ApiKey.key_hash.does_not_exist())
    return MintedKey(key=key, record=record)


def lookup_key(key: str) -> ApiKey | None:
    """The stored key record for a presented key, or None (malformed or unknown)."""
    if mode_of(key) is None:
        return None
    digest = hash_key(key)
    try:
        record = ApiKey.get(digest, consistent_read=True)
    except ApiKey.DoesNotExist:
        return None
    # The table lookup is by digest; compare again in constant time so a lookup path that ever
    # returns a near match can never authenticate it.
    if not hmac.compare_digest(record.key_hash, digest):
        return None
    return record


def list_keys(account_id: str) -> list[ApiKey]:
    """The account's keys, oldest first (through the by-account index; no scan)."""
    return list(ApiKey.by_account.query(account_id))


def revoke_key(account_id: str, key_id: str) -> ApiKey | None:
    """Mark the key revoked (403 from then on); None if the account has no such key."""
    for record in ApiKey.by_account.query(account_id):
        if record.key_id == key_id:
            if record.revoked_at is None:
                record.update(actions=[ApiKey.revoked_at.set(utcnow())])
            return record
    return None
