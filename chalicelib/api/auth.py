"""Bearer-key authentication: hashed lookup, revocation, account plan."""

from __future__ import annotations

from chalice.app import Request

from ..data.keys import lookup_key
from ..data.models import Account
from .context import Principal
from .errors import ApiError


def authenticate(request: Request) -> Principal:
    """The caller behind `Authorization: Bearer ks_…`; 401 when missing/unknown, 403 when revoked."""
    header = (request.headers.get("authorization") or "").strip()
    if not header:
        raise ApiError(401, "missing_api_key", "Send your API key as `Authorization: Bearer ks_live_…`.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid_api_key", "The Authorization header must be `Bearer <api key>`.")
    record = lookup_key(token.strip())
    if record is None:
        raise ApiError(401, "invalid_api_key", "The API key is not valid.")
    if record.revoked_at is not None:
        raise ApiError(403, "api_key_revoked", "This API key has been revoked.")
    try:
        account = Account.get(record.account_id)
    except Account.DoesNotExist:
        raise ApiError(401, "invalid_api_key", "The API key is not valid.") from None
    return Principal(account_id=account.account_id, mode=record.mode, plan=account.plan, key_id=record.key_id)
