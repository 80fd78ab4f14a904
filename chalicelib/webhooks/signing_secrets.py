"""Webhook signing secrets: a ring per owner (an endpoint, or an account's mode), sealed at rest.

A ring is {current, previous, previous_until}: after a rotation both secrets sign every delivery until
`previous_until` (settings.webhook_secret_overlap_hours later), so receivers can switch without a gap.
Secrets follow the Standard Webhooks convention: "whsec_" + base64 of 32 random bytes.

Account rings (for project-level `webhook_url`) live on the Account row, one per mode, created on first
use; an account from before rings keeps its plain `webhook_secret` as the first secret of both modes
(rotate each to separate them) and the plain copy is removed.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import UpdateError

from ..data.conditional import condition_failed
from ..data.models import Account, WebhookEndpoint
from ..data.sealing import Purpose, seal, unseal
from ..settings import get_settings

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
_SEALED = Purpose("klipstar-webhook-secret", "owner")


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode()


@dataclass(frozen=True)
class Ring:
    current: str
    previous: str | None = None
    previous_until: float | None = None

    def active(self, now: float | None = None) -> list[str]:
        """The secrets that sign a delivery now: the current one, plus the previous one inside the overlap."""
        now = time.time() if now is None else now
        if self.previous and self.previous_until and now < self.previous_until:
            return [self.current, self.previous]
        return [self.current]

    def rotated(self, now: float | None = None) -> Ring:
        now = time.time() if now is None else now
        overlap = get_settings().webhook_secret_overlap_hours * 3600
        return Ring(new_secret(), self.current, now + overlap if overlap > 0 else None)


def seal_ring(ring: Ring, owner: str) -> str:
    return seal({"current": ring.current, "previous": ring.previous, "previous_until": ring.previous_until},
                _SEALED, owner)


def open_ring(blob: str, owner: str) -> Ring:
    data = unseal(blob, _SEALED, owner)
    return Ring(str(data["current"]), data.get("previous"), data.get("previous_until"))


# --- account rings (project-level webhook_url) ------------------------------------------------------


def _mode_attr(mode: str) -> UnicodeAttribute:
    if mode not in ("live", "test"):
        raise ValueError(f"mode must be live or test, got {mode!r}")
    return Account.webhook_secret_live if mode == "live" else Account.webhook_secret_test


def _split(tenant: str) -> tuple[str, str]:
    account_id, _, mode = tenant.partition("#")
    return account_id, mode


def account_ring(tenant: str) -> Ring:
    """The signing ring of `tenant` ("<account>#<mode>"), created (or migrated from the plain secret) once."""
    account_id, mode = _split(tenant)
    attr = _mode_attr(mode)
    for _ in range(3):
        account = Account.get(account_id, consistent_read=True)
        blob = getattr(account, attr.attr_name)
        if blob:
            return open_ring(blob, tenant)
        legacy = account.webhook_secret
        rings = {m: Ring(legacy or new_secret()) for m in ("live", "test")}
        actions = [_mode_attr(m).set(seal_ring(r, f"{account_id}#{m}")) for m, r in rings.items()
                   if not getattr(account, _mode_attr(m).attr_name)]
        try:  # both modes at once (only while neither exists), so a legacy secret is carried into both
            account.update(actions=[*actions, Account.webhook_secret.remove()],
                           condition=Account.account_id.exists() & attr.does_not_exist())
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue  # another writer made it first: read theirs
        return rings[mode]
    raise RuntimeError(f"could not create the signing secret of {tenant}")


def rotate_account(tenant: str) -> Ring:
    """Give `tenant` a new secret; the old one keeps signing for the overlap window."""
    account_id, mode = _split(tenant)
    attr = _mode_attr(mode)
    for _ in range(5):
        ring = account_ring(tenant)
        account = Account.get(account_id, consistent_read=True)
        old_blob = getattr(account, attr.attr_name)
        new = ring.rotated()
        try:  # conditional on the ring we read: two concurrent rotations cannot both win
            account.update(actions=[attr.set(seal_ring(new, tenant))], condition=attr == old_blob)
        except UpdateError as exc:
            if not condition_failed(exc):
                raise
            continue
        return new
    raise RuntimeError(f"could not rotate the signing secret of {tenant}")


def endpoint_ring(endpoint: WebhookEndpoint) -> Ring:
    return open_ring(endpoint.sealed_secret, endpoint.endpoint_id)
