"""Plan limits enforced with atomic DynamoDB counters (conditional UpdateItem ADD; never read-then-write).

Counters (table RateCounter), all per account across its keys and both modes:
  <account>#min#<epoch minute>   requests in that minute window (TTL: two windows later)
  <account>#hour#<epoch hour>    requests in that hour window   (TTL: two windows later)
  <account>#concurrent           projects in flight (no TTL; released exactly once per project)

What counts as a request: every authenticated API call that reaches its route, whatever its outcome
(404, 400, 409… included). Not counted: a replayed Idempotency-Key response (charged once, when it
first ran), requests refused before authentication or routing (401, 403 revoked key, unknown path,
405, 415), bodies over the size limit (413), and GET /v1/openapi.json, which needs no key.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import UpdateError

from .models import Project, RateCounter


@dataclass(frozen=True)
class PlanLimits:
    per_minute: int
    per_hour: int
    concurrent: int


PLAN_LIMITS: dict[str, PlanLimits] = {
    "spark": PlanLimits(per_minute=1, per_hour=10, concurrent=1),
    "creator": PlanLimits(per_minute=3, per_hour=30, concurrent=3),
    "studio": PlanLimits(per_minute=15, per_hour=100, concurrent=10),
}

# Retry-After suggested when every concurrency slot is taken (a slot frees when a project ends).
CONCURRENCY_RETRY_SECONDS = 30

_clock: Callable[[], float] = time.time


def set_clock(clock: Callable[[], float] | None) -> None:
    """Replace the clock (epoch seconds) the windows are computed from; None restores time.time."""
    global _clock
    _clock = clock or time.time


def now() -> float:
    return _clock()


def limits_for(plan: str) -> PlanLimits:
    return PLAN_LIMITS.get(plan, PLAN_LIMITS["spark"])


@dataclass(frozen=True)
class RateState:
    """What the RateLimit-* headers report (the window closest to its limit)."""

    limit: int
    remaining: int
    reset: int  # seconds until that window resets
    policy: str  # e.g. "1;w=60, 10;w=3600"
    retry_after: int | None = None  # set when the request was refused

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": self.policy,
        }
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimited(Exception):
    """A per-minute or per-hour limit is used up."""

    def __init__(self, state: RateState, window: str) -> None:
        super().__init__(f"rate limit of {state.limit} requests per {window} exceeded")
        self.state = state
        self.window = window


class ConcurrencyLimited(Exception):
    """Every concurrent-project slot of the plan is taken."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"your plan allows {limit} concurrent projects; wait for one to finish")
        self.limit = limit


def _is_condition_failure(exc: UpdateError) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _try_increment(key: str, limit: int, expires: float | None) -> int | None:
    """Atomically add 1 if the counter is below `limit`; the new count, or None when at the limit."""
    counter = RateCounter(key)
    actions = [RateCounter.count.add(1)]
    if expires is not None:
        actions.append(RateCounter.expires_at.set(datetime.fromtimestamp(expires, UTC)))
    try:
        counter.update(actions=actions, condition=RateCounter.count.does_not_exist() | (RateCounter.count < limit))
    except UpdateError as exc:
        if _is_condition_failure(exc):
            return None
        raise
    return int(counter.count)


def _decrement(key: str) -> None:
    """Give one unit back (never below zero)."""
    try:
        RateCounter(key).update(actions=[RateCounter.count.add(-1)], condition=RateCounter.count > 0)
    except UpdateError as exc:
        if not _is_condition_failure(exc):
            raise


def _windows(t: float) -> tuple[int, int, int, int]:
    minute, hour = int(t // 60), int(t // 3600)
    reset_min = max(1, math.ceil((minute + 1) * 60 - t))
    reset_hour = max(1, math.ceil((hour + 1) * 3600 - t))
    return minute, hour, reset_min, reset_hour


def _window_keys(account_id: str, minute: int, hour: int) -> tuple[str, str]:
    """The counter keys of the account's minute and hour windows."""
    return f"{account_id}#min#{minute}", f"{account_id}#hour#{hour}"


def _policy(limits: PlanLimits) -> str:
    return f"{limits.per_minute};w=60, {limits.per_hour};w=3600"


def _state(limits: PlanLimits, used_min: int, used_hour: int, reset_min: int, reset_hour: int) -> RateState:
    rem_min = max(0, limits.per_minute - used_min)
    rem_hour = max(0, limits.per_hour - used_hour)
    if rem_hour < rem_min:
        return RateState(limits.per_hour, rem_hour, reset_hour, _policy(limits))
    return RateState(limits.per_minute, rem_min, reset_min, _policy(limits))


def charge_request(account_id: str, plan: str) -> RateState:
    """Count one request against the minute and hour windows; raises RateLimited past either limit."""
    limits = limits_for(plan)
    t = now()
    minute, hour, reset_min, reset_hour = _windows(t)
    min_key, hour_key = _window_keys(account_id, minute, hour)
    used_min = _try_increment(min_key, limits.per_minute, (minute + 2) * 60)
    if used_min is None:
        state = RateState(limits.per_minute, 0, reset_min, _policy(limits), retry_after=reset_min)
        raise RateLimited(state, "minute")
    used_hour = _try_increment(hour_key, limits.per_hour, (hour + 2) * 3600)
    if used_hour is None:
        _decrement(min_key)  # this request is refused: it must not use up the minute window
        state = RateState(limits.per_hour, 0, reset_hour, _policy(limits), retry_after=reset_hour)
        raise RateLimited(state, "hour")
    return _state(limits, used_min, used_hour, reset_min, reset_hour)


def peek(account_id: str, plan: str) -> RateState:
    """The current rate state without charging (for replayed idempotent responses)."""
    limits = limits_for(plan)
    minute, hour, reset_min, reset_hour = _windows(now())
    used = dict.fromkeys(_window_keys(account_id, minute, hour), 0)
    for item in RateCounter.batch_get(list(used)):
        used[item.counter_key] = int(item.count or 0)
    return _state(limits, *used.values(), reset_min, reset_hour)


def concurrency_key(account_id: str) -> str:
    return f"{account_id}#concurrent"


def acquire_project_slot(account_id: str, plan: str) -> None:
    """Take one concurrent-project slot; raises ConcurrencyLimited when all are in use."""
    limit = limits_for(plan).concurrent
    if _try_increment(concurrency_key(account_id), limit, None) is None:
        raise ConcurrencyLimited(limit)


def release_project_slot(project: Project | str) -> bool:
    """Give the project's slot back exactly once (completed, failed or deleted); True if this call did.

    Idempotent: a conditional update flips Project.slot_released, and only the caller that flips it
    decrements the account's counter. Safe to call from the pipeline, the sweeper and DELETE.
    """
    if isinstance(project, str):
        try:
            project = Project.get(project, consistent_read=True)
        except Project.DoesNotExist:
            return False
    condition = Project.project_id.exists() & (
        Project.slot_released.does_not_exist() | (Project.slot_released == False)  # noqa: E712
    )
    try:
        project.update(actions=[Project.slot_released.set(True)], condition=condition)
    except UpdateError as exc:
        if _is_condition_failure(exc):
            return False
        raise
    _decrement(concurrency_key(project.account_id))
    return True


def in_flight(account_id: str) -> int:
    """Projects currently holding a slot (for tests and the CLI)."""
    try:
        return int(RateCounter.get(concurrency_key(account_id), consistent_read=True).count or 0)
    except RateCounter.DoesNotExist:
        return 0


def release_unclaimed_slot(account_id: str) -> None:
    """Give back a slot taken for a project that was never created (its creation failed)."""
    _decrement(concurrency_key(account_id))
