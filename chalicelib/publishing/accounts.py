"""Social accounts' token upkeep: the scheduled refresh before expiry, and `reconnect_required`.

`refresh_due_accounts` runs from the publish maintenance schedule (Chalice `@app.schedule`; in local mode
the publish scheduler loop runs it on its own timer). For each active account the platform client decides
whether its long-lived credential nears expiry (`PlatformClient.scheduled_refresh_due`: Instagram's
60-day access token, TikTok's 365-day refresh token; YouTube refresh tokens have no clock) and refreshes
it; the new tokens are stored encrypted. A token the platform will not refresh marks the account
`reconnect_required` and sends `social_account.reconnect_required` to the tenant's webhook endpoints and
to the webhook URL of its most recent project that has one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import UpdateError

from ..data.models import Project, SocialAccount, utcnow
from ..settings import Settings, get_settings
from ..webhooks import events
from . import tokens as token_crypto
from .base import PlatformClient, TokenSet
from .errors import AuthFailed, PublishError
from .limits import account_platform_of

log = logging.getLogger(__name__)

RECONNECT_EVENT = "social_account.reconnect_required"
ClientFactory = Callable[..., PlatformClient]


def save_tokens(account: SocialAccount, settings: Settings) -> Callable[[TokenSet], None]:
    """`on_tokens` callback: re-encrypt refreshed tokens into the account row (never recreating a deleted one)."""

    def save(new: TokenSet) -> None:
        blob = token_crypto.encrypt_tokens(new.to_dict(), account.social_account_id, settings)
        try:
            account.update(actions=[SocialAccount.encrypted_tokens.set(blob)],
                           condition=SocialAccount.social_account_id.exists())
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            log.info("social account %s was deleted; refreshed tokens dropped", account.social_account_id)

    return save


def _webhook_project(tenant: str) -> Project | None:
    """The project an account event is filed under: the tenant's most recent one with a webhook URL, else its
    most recent one (the event then reaches only the tenant's webhook endpoints)."""
    recent = list(Project.by_tenant.query(tenant, scan_index_forward=False, limit=50))
    return next((p for p in recent if p.webhook_url), recent[0] if recent else None)


def mark_reconnect_required(account: SocialAccount, reason: str) -> bool:
    """Flag the account (once) and send social_account.reconnect_required; False if already flagged/gone."""
    try:
        account.update(
            actions=[SocialAccount.status.set("reconnect_required"), SocialAccount.status_reason.set(reason[:500])],
            condition=SocialAccount.social_account_id.exists() & (SocialAccount.status != "reconnect_required"),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    log.warning("social account %s needs reconnecting: %s", account.social_account_id, reason)
    project = _webhook_project(account.tenant)
    if project is not None:
        payload: dict[str, Any] = {
            "event": RECONNECT_EVENT,
            "account_id": account.social_account_id,
            "platform": account.platform,
            "status": "reconnect_required",
            "reason": reason[:500],
            "at": utcnow().isoformat(),
        }
        events.enqueue(project, RECONNECT_EVENT, payload)
    return True


def _default_factory(platform: str, tokens: TokenSet, **kw: Any) -> PlatformClient:
    from .worker import CLIENTS  # the worker owns the platform -> client table

    return CLIENTS[platform](tokens, **kw)


def refresh_due_accounts(*, settings: Settings | None = None, client_factory: ClientFactory | None = None,
                         now: float | None = None) -> dict[str, list[str]]:
    """Refresh every active account whose token nears expiry; {"refreshed": [...], "reconnect_required": [...]}."""
    settings = settings or get_settings()
    factory = client_factory or _default_factory
    now = time.time() if now is None else now
    out: dict[str, list[str]] = {"refreshed": [], "reconnect_required": []}
    for account in SocialAccount.scan(SocialAccount.status != "reconnect_required"):
        account_id = account.social_account_id
        try:
            tokens = TokenSet.from_dict(token_crypto.decrypt_tokens(account.encrypted_tokens, account_id, settings))
        except (token_crypto.TokenCryptoError, KeyError, ValueError):
            log.error("social account %s: stored tokens do not open; skipped", account_id)
            continue
        client = factory(account_platform_of(account.platform), tokens, settings=settings,
                         on_tokens=save_tokens(account, settings), clock=lambda: now)
        if not client.scheduled_refresh_due(now, account.created_at.timestamp()):
            continue
        try:
            client.refresh()
        except AuthFailed as exc:
            if mark_reconnect_required(account, exc.message):
                out["reconnect_required"].append(account_id)
            continue
        except PublishError as exc:  # throttled or unreachable: the next run tries again
            log.warning("social account %s: token refresh failed for now: %s", account_id, exc.code)
            continue
        out["refreshed"].append(account_id)
    return out
