"""Plan limits enforced with atomic DynamoDB counters (conditional UpdateItem ADD; never read-then-write).

Requests that start or change work (POST, PATCH, DELETE) count against the plan's write windows;
reads (GET) have their own, generous per-minute budget so a client can poll. Counters (table
RateCounter), all per account across its keys and both modes:
  <account>#min#<epoch minute>    writes in that minute window   (TTL: two windows later)
  <account>#hour#<epoch hour>     writes in that hour window     (TTL: two windows later)
  <account>#rmin#<epoch minute>   reads in that minute window    (TTL: two windows later)
  <account>#concurrent            projects in flight (no TTL; released exactly once per project)

What counts as a request: every authenticated API call that reaches its route, whatever its outcome
(404, 400, 409… included). Not counted: a replayed Idempotency-Key response (charged once, when it
first ran), requests refused before authentication or routing (401, 403 revoked key, unknown path,
405, 415), bodies over the size limit (413) or nested too deeply, and GET /v1/openapi.json, which
needs no key. Each response reports the policy that applied with IETF `RateLimit` / `RateLimit-Policy`
headers (draft-ietf-httpapi-ratelimit-headers), e.g. `RateLimit: "writes-minute";r=0;t=45`.
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
    per_minute: int  # writes (POST/PATCH/DELETE)
    per_hour: int  # writes
    concurrent: int
    reads_per_minute: int  # GETs, counted apart


PLAN_LIMITS: dict[str, PlanLimits] = {
    "spark": PlanLimits(per_minute=1, per_hour=10, concurrent=1, reads_per_minute=120),
    "creator": PlanLimits(per_minute=3, per_hour=30, concurrent=3, reads_per_minute=300),
    "studio": PlanLimits(per_minute=15, per_hour=100, concurrent=10, reads_per_minute=600),
}

READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Window:
    """One rate-limit policy: `limit` requests per `seconds`, counted under `<account>#<tag>#<index>`."""

    name: str
    tag: str
    limit: int
    seconds: int

    def policy(self) -> str:
        return f'"{self.name}";q={self.limit};w={self.seconds}'


def windows_for(plan: str, method: str) -> list[Window]:
    """The windows a request with `method` counts against on `plan` (reads and writes are separate)."""
    limits = limits_for(plan)
    if method.upper() in READ_METHODS:
        return [Window("reads-minute", "rmin", limits.reads_per_minute, 60)]
    return [Window("writes-minute", "min", limits.per_minute, 60), Window("writes-hour", "hour", limits.per_hour, 3600)]


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
    """What the rate-limit headers report: the window closest to its limit, and every policy that applied."""

    name: str  # the reported window's policy name, e.g. "writes-minute"
    limit: int
    remaining: int
    reset: int  # seconds until that window resets
    policy: str  # e.g. '"writes-minute";q=1;w=60, "writes-hour";q=10;w=3600'
    retry_after: int | None = None  # set when the request was refused

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit": f'"{self.name}";r={self.remaining};t={self.reset}',
            "RateLimit-Policy": self.policy,
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if self.retry_after is not None:
            out["Retry-After"] = str(self.retry_after)
        return out


class RateLimited(Exception):
    """A per-minute or per-hour limit is used up."""

    def __init__(self, state: RateState) -> None:
        super().__init__(f"rate limit {state.name} ({state.limit}) exceeded")
        self.state = state


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


def _index_and_reset(window: Window, t: float) -> tuple[int, int]:
    index = int(t // window.seconds)
    return index, max(1, math.ceil((index + 1) * window.seconds - t))


def _key(account_id: str, window: Window, index: int) -> str:
    return f"{account_id}#{window.tag}#{index}"


def _policy(windows: list[Window]) -> str:
    return ", ".join(w.policy() for w in windows)


def _state(windows: list[Window], used: list[int], resets: list[int]) -> RateState:
    """The window with the fewest requests left (the shorter one on a tie)."""
    best = min(range(len(windows)), key=lambda i: (windows[i].limit - used[i], windows[i].seconds))
    w = windows[best]
    return RateState(w.name, w.limit, max(0, w.limit - used[best]), resets[best], _policy(windows))


def charge_request(account_id: str, plan: str, method: str = "POST") -> RateState:
    """Count one request against its windows (reads or writes); raises RateLimited past any of them.

    A refused request gives back what it took from the windows checked before the full one.
    """
    windows = windows_for(plan, method)
    t = now()
    taken: list[str] = []
    used: list[int] = []
    resets: list[int] = []
    for window in windows:
        index, reset = _index_and_reset(window, t)
        key = _key(account_id, window, index)
        count = _try_increment(key, window.limit, (index + 2) * window.seconds)
        if count is None:
            for earlier in taken:
                _decrement(earlier)  # this request is refused: it must not use up the other windows
            state = RateState(window.name, window.limit, 0, reset, _policy(windows), retry_after=reset)
            raise RateLimited(state)
        taken.append(key)
        used.append(count)
        resets.append(reset)
    return _state(windows, used, resets)


def peek(account_id: str, plan: str, method: str = "POST") -> RateState:
    """The current rate state of `method`'s windows without charging (replays, requests refused early)."""
    windows = windows_for(plan, method)
    t = now()
    keys: list[str] = []
    resets: list[int] = []
    for window in windows:
        index, reset = _index_and_reset(window, t)
        keys.append(_key(account_id, window, index))
        resets.append(reset)
    counts = dict.fromkeys(keys, 0)
    for item in RateCounter.batch_get(keys):
        counts[item.counter_key] = int(item.count or 0)
    return _state(windows, [counts[k] for k in keys], resets)


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
