"""/v1/social-accounts: connect, list, read and remove YouTube / TikTok / Instagram accounts.

The caller runs the platform's OAuth flow and hands over the resulting tokens; they are stored only
envelope-encrypted (chalicelib.publishing.tokens) and never appear in any response or log line.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import ConfigDict, Field, StringConstraints

from ...data.models import SocialAccount, utcnow
from ...publishing.base import TokenSet
from ...publishing.tokens import TokenCryptoError, decrypt_tokens, encrypt_tokens
from ..errors import ApiError
from ..loaders import load_owned, new_id
from ..routing import Call, Reply, api_route
from ..schemas import VISIBLE, Out, Request

bp = Blueprint(__name__)
TAG = "social-accounts"
Token = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=rf"^{VISIBLE}+$")]
PlatformId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")]
AccountPlatform = Literal["youtube", "tiktok", "instagram"]


class SocialAccountCreate(Request):
    """POST /v1/social-accounts: tokens from the platform's OAuth flow (stored encrypted, never returned)."""

    # What each platform needs, in the document too (JSON Schema if/then): youtube and tiktok a
    # refresh_token, instagram its ig_user_id.
    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"if": {"properties": {"platform": {"enum": ["youtube", "tiktok"]}}, "required": ["platform"]},
         "then": {"required": ["refresh_token"], "properties": {"refresh_token": {"type": "string"}}}},
        {"if": {"properties": {"platform": {"const": "instagram"}}, "required": ["platform"]},
         "then": {"required": ["ig_user_id"], "properties": {"ig_user_id": {"type": "string"}}}},
    ]})

    platform: AccountPlatform
    access_token: Token
    refresh_token: Token | None = Field(None, description="Required for youtube and tiktok.")
    expires_in: int | None = Field(None, ge=1, le=10 * 365 * 86400,
                                   description="Seconds until the access token expires.")
    display_name: Annotated[str, StringConstraints(max_length=200)] = ""
    ig_user_id: PlatformId | None = Field(None, description="Instagram professional account id (instagram).")
    open_id: PlatformId | None = Field(None, description="TikTok open_id (tiktok).")
    channel_id: PlatformId | None = Field(None, description="YouTube channel id (youtube, informational).")


class SocialAccountOut(Out):
    id: str
    object: Literal["social_account"] = "social_account"
    platform: str
    display_name: str
    has_refresh_token: bool
    token_expires_at: datetime | None
    created_at: datetime
    status: Literal["active", "reconnect_required"] = Field(
        "active", description="reconnect_required: the platform refused to refresh the token; connect it again.")


class SocialAccountList(Out):
    object: Literal["list"] = "list"
    data: list[SocialAccountOut]
    has_more: bool


def _load(tenant: str, account_id: str) -> SocialAccount:
    return load_owned(SocialAccount, "social account", tenant, account_id)


def _out(account: SocialAccount, tokens: TokenSet | None = None) -> SocialAccountOut:
    """The public view of an account: token facts (refreshable? expiry?) but never the tokens."""
    if tokens is None:
        try:
            tokens = TokenSet.from_dict(decrypt_tokens(account.encrypted_tokens, account.social_account_id))
        except (TokenCryptoError, KeyError, ValueError):
            tokens = None
    expires = (datetime.fromtimestamp(tokens.expires_at, tz=UTC)
               if tokens is not None and tokens.expires_at else None)
    return SocialAccountOut(
        id=account.social_account_id,
        platform=account.platform,
        display_name=account.display_name or "",
        has_refresh_token=bool(tokens and tokens.refresh_token),
        token_expires_at=expires,
        created_at=account.created_at,
        status=account.status or "active",
    )


@api_route(bp, "/v1/social-accounts", "POST", status=201, summary="Connect a social account (tokens stored encrypted)",
           tag=TAG, request=SocialAccountCreate, response=SocialAccountOut, errors=(400, 413, 415))
def create_social_account(call: Call) -> Reply:
    body: SocialAccountCreate = call.body
    if body.platform in ("youtube", "tiktok") and not body.refresh_token:
        raise ApiError(400, "missing_field", f"{body.platform} accounts need a refresh_token.",
                       param="refresh_token")
    if body.platform == "instagram" and not body.ig_user_id:
        raise ApiError(400, "missing_field", "instagram accounts need the ig_user_id.", param="ig_user_id")
    extra = {k: v for k, v in (("ig_user_id", body.ig_user_id), ("open_id", body.open_id),
                               ("channel_id", body.channel_id)) if v}
    tokens = TokenSet(
        access_token=body.access_token,
        refresh_token=body.refresh_token,
        expires_at=time.time() + body.expires_in if body.expires_in else None,
        extra=extra,
    )
    account_id = new_id("sa_")
    account = SocialAccount(
        account_id,
        tenant=call.principal.tenant,
        platform=body.platform,
        display_name=body.display_name,
        encrypted_tokens=encrypt_tokens(tokens.to_dict(), account_id),
        created_at=utcnow(),
    )
    account.save(condition=SocialAccount.social_account_id.does_not_exist())
    return Reply(201, _out(account, tokens))


@api_route(bp, "/v1/social-accounts", "GET", summary="List connected social accounts, newest first", tag=TAG,
           response=SocialAccountList)
def list_social_accounts(call: Call) -> Reply:
    rows = list(SocialAccount.by_tenant.query(call.principal.tenant, scan_index_forward=False, limit=101))
    data = [_out(a).model_dump(mode="json") for a in rows[:100]]
    return Reply(200, {"object": "list", "data": data, "has_more": len(rows) > 100})


@api_route(bp, "/v1/social-accounts/{account_id}", "GET", summary="Get a connected social account", tag=TAG,
           response=SocialAccountOut, errors=(404,))
def get_social_account(call: Call) -> Reply:
    return Reply(200, _out(_load(call.principal.tenant, call.params["account_id"])))


@api_route(bp, "/v1/social-accounts/{account_id}", "DELETE", status=204,
           summary="Disconnect a social account (its encrypted tokens are deleted)", tag=TAG, errors=(404,))
def delete_social_account(call: Call) -> Reply:
    account = _load(call.principal.tenant, call.params["account_id"])
    account.delete()
    return Reply(204)
