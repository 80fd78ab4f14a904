"""Per-request state, kept in a ContextVar (Chalice's app.current_request is shared across threads)."""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field
from typing import Any

from chalice.app import Request

from ..data.models import tenant_of
from ..data.quotas import RateState


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    account_id: str
    mode: str  # live | test
    plan: str
    key_id: str

    @property
    def tenant(self) -> str:
        return tenant_of(self.account_id, self.mode)


@dataclass
class RequestState:
    request: Request
    request_id: str
    started: float = field(default_factory=time.monotonic)
    principal: Principal | None = None
    rate_state: RateState | None = None
    executed: bool = False  # the view really ran (False for an idempotent replay)
    replayed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[RequestState | None] = contextvars.ContextVar("klipstar_request", default=None)


def set_state(state: RequestState | None) -> contextvars.Token[RequestState | None]:
    return _current.set(state)


def reset_state(token: contextvars.Token[RequestState | None]) -> None:
    _current.reset(token)


def state() -> RequestState:
    current = _current.get()
    if current is None:
        raise RuntimeError("no API request in progress")
    return current
