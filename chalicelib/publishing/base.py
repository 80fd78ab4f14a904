"""Shared plumbing of the platform clients: tokens, requests with retry/backoff and token refresh.

Every platform call goes through `PlatformClient.request`, which
- applies the current access token (header or query, per platform),
- on the platform's "token expired/invalid" answer refreshes the token once and repeats the call,
- on 429 / quota / rate-limit answers waits (Retry-After when given, else exponential backoff with
  jitter) and repeats, up to `publish_max_retries` times, then raises QuotaExceeded,
- on connection errors and 5xx backs off and repeats (callers that must not repeat blindly, like
  resumable uploads, pass `retry_transient=False` and handle them),
- raises at once on answers the platform documents as final (`_final_error`: YouTube's daily
  quotaExceeded, Instagram's spam restriction), which retrying only makes worse.
Once the platform holds the video, a client calls `posted(ref)` with the platform's handle (YouTube video
id, TikTok publish_id, Instagram container/media id) before anything else can fail; the worker stores it
at once, and a later run calls `resume(ref, req)`, which only polls, instead of uploading again.
Tokens never appear in log lines or error messages.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from ..settings import Settings, get_settings
from .errors import AuthFailed, PlatformError, PublishError, QuotaExceeded, UploadFailed

log = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


@dataclass(repr=False)
class TokenSet:
    """A connected account's OAuth tokens; `extra` holds ids the platform needs (open_id, ig_user_id…)."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None  # epoch seconds; None = unknown/never
    extra: dict[str, Any] = field(default_factory=dict)

    def expires_within(self, seconds: float, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return self.expires_at - (time.time() if now is None else now) <= seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TokenSet:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=data.get("refresh_token"),
            expires_at=float(data["expires_at"]) if data.get("expires_at") is not None else None,
            extra=dict(data.get("extra") or {}),
        )

    def __repr__(self) -> str:  # never print the secrets
        return f"TokenSet(expires_at={self.expires_at!r}, extra_keys={sorted(self.extra)!r})"


@dataclass
class PublishRequest:
    """One video to post. `video_url` is a presigned GET URL (Instagram pulls the video from it)."""

    path: Path
    title: str
    description: str = ""
    tags: list[str] = field(default_factory=list)
    privacy: str = "public"
    duration: float = 0.0
    width: int = 0
    height: int = 0
    video_url: str | None = None
    content_type: str = "video/mp4"

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class PublishResult:
    post_id: str | None
    post_url: str | None
    privacy: str | None = None  # the privacy the platform applied, when it says (may differ from the request)


def caption_text(req: PublishRequest) -> str:
    """Title, description and #hashtags as one caption, blank lines between the non-empty parts."""
    tags = " ".join("#" + t.lstrip("#") for t in req.tags)
    return "\n\n".join(part for part in (req.title.strip(), req.description.strip(), tags) if part)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None when absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def safe_url(url: str) -> str:
    """The URL without its query string (which may carry tokens), for logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


class PlatformClient(ABC):
    """Base of the YouTube, TikTok and Instagram clients."""

    platform: ClassVar[str] = ""
    refresh_margin_seconds: ClassVar[float] = 120.0
    needs_refresh_token: ClassVar[bool] = True  # Instagram refreshes the long-lived access token itself

    def __init__(
        self,
        tokens: TokenSet,
        *,
        settings: Settings | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_tokens: Callable[[TokenSet], None] | None = None,
        on_status: Callable[[str], None] | None = None,
        on_posted: Callable[[str], None] | None = None,
    ) -> None:
        self.tokens = tokens
        self.settings = settings or get_settings()
        self.session = session or requests.Session()
        self.sleep = sleep
        self.clock = clock
        self.on_tokens = on_tokens
        self.on_status = on_status
        self.on_posted = on_posted
        self.refresh_count = 0

    # --- to implement per platform ---------------------------------------------------------------

    @abstractmethod
    def publish(self, req: PublishRequest) -> PublishResult:
        """Upload and publish `req`; returns the platform's post id and URL."""

    @abstractmethod
    def resume(self, ref: str, req: PublishRequest) -> PublishResult:
        """Finish a publication whose upload an earlier run completed (`ref` from `posted`): poll only."""

    def scheduled_refresh_due(self, now: float, connected_at: float) -> bool:
        """Whether the token refresh schedule should refresh this account now (default: never)."""
        return False

    @abstractmethod
    def _refresh(self) -> TokenSet:
        """Exchange the refresh token for a new TokenSet (raise AuthFailed when refused)."""

    @abstractmethod
    def _apply_auth(self, kwargs: dict[str, Any]) -> None:
        """Put the current access token on a request's kwargs (headers or params)."""

    def _is_auth_error(self, resp: requests.Response) -> bool:
        return resp.status_code == 401

    def _final_error(self, resp: requests.Response) -> PublishError | None:
        """An error the platform documents as final (no retry may help), else None."""
        return None

    def _throttle_delay(self, resp: requests.Response, attempt: int) -> float | None:
        """Seconds to wait when `resp` is a rate-limit/quota answer, else None."""
        if resp.status_code == 429:
            return self._backoff(attempt, resp)
        return None

    # --- shared ----------------------------------------------------------------------------------

    def _backoff(self, attempt: int, resp: requests.Response | None = None) -> float:
        """Retry-After when the platform gave one, else exponential backoff with full jitter."""
        given = parse_retry_after(resp.headers.get("Retry-After")) if resp is not None else None
        if given is not None:
            return given
        base = self.settings.publish_backoff_base_seconds * (2**attempt)
        return min(self.settings.publish_backoff_max_seconds, random.uniform(base / 2, base))

    def status(self, stage: str) -> None:
        if self.on_status:
            self.on_status(stage)

    def posted(self, ref: str) -> None:
        """The platform now holds the post: hand its handle to `on_posted` (stored before polling)."""
        if self.on_posted:
            self.on_posted(ref)

    @property
    def poll_interval(self) -> float:
        return self.settings.publish_poll_interval_seconds

    def refresh(self) -> None:
        """Refresh the access token now and hand the new tokens to `on_tokens` (for persisting)."""
        if self.needs_refresh_token and not self.tokens.refresh_token:
            raise AuthFailed(f"{self.platform} access token expired and no refresh token is stored")
        new = self._refresh()
        self.tokens = new
        self.refresh_count += 1
        log.info("refreshed %s access token", self.platform)
        if self.on_tokens:
            self.on_tokens(new)

    def ensure_fresh(self) -> None:
        """Refresh before starting when the access token is expired or about to expire."""
        if self.tokens.expires_within(self.refresh_margin_seconds, self.clock()):
            self.refresh()

    def wait(self, seconds: float) -> None:
        if seconds > self.settings.publish_backoff_max_seconds:
            raise QuotaExceeded(
                f"{self.platform} asked to wait {seconds:.0f}s, longer than the configured maximum"
            )
        self.sleep(seconds)

    def request(
        self,
        method: str,
        url: str,
        *,
        auth: bool = True,
        retry_transient: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """Send one logical request, refreshing tokens and backing off as described in the module doc."""
        refreshed = False
        attempt = 0
        kwargs.setdefault("timeout", self.settings.publish_http_timeout_seconds)
        while True:
            call = {k: (dict(v) if isinstance(v, dict) else v) for k, v in kwargs.items()}
            if auth:
                self._apply_auth(call)
            try:
                resp = self.session.request(method, url, **call)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not retry_transient:
                    raise
                if attempt >= self.settings.publish_max_retries:
                    raise UploadFailed(f"{self.platform}: {method} {safe_url(url)} kept failing: "
                                       f"{type(exc).__name__}") from None
                self.wait(self._backoff(attempt))
                attempt += 1
                continue
            except requests.RequestException as exc:  # its text may hold the URL (and a token in the query)
                raise UploadFailed(f"{self.platform}: {method} {safe_url(url)} failed: "
                                   f"{type(exc).__name__}") from None
            log.debug("%s %s %s -> %s", self.platform, method, safe_url(url), resp.status_code)
            if auth and self._is_auth_error(resp):
                if refreshed:
                    raise AuthFailed(f"{self.platform} refused the refreshed access token; reconnect the account")
                self.refresh()
                refreshed = True
                continue
            final = self._final_error(resp)
            if final is not None:
                raise final
            delay = self._throttle_delay(resp, attempt)
            if delay is not None:
                if attempt >= self.settings.publish_max_retries:
                    raise QuotaExceeded(f"{self.platform} rate limit or quota still exceeded after "
                                        f"{attempt} retries")
                log.info("%s throttled (%s); waiting %.1fs", self.platform, resp.status_code, delay)
                self.wait(delay)
                attempt += 1
                continue
            if retry_transient and resp.status_code in TRANSIENT_STATUSES:
                if attempt >= self.settings.publish_max_retries:
                    raise PlatformError(f"{self.platform} kept answering {resp.status_code}", retryable=True)
                self.wait(self._backoff(attempt, resp))
                attempt += 1
                continue
            return resp

    def poll_until(
        self,
        check: Callable[[], tuple[bool, Any]],
        what: str,
    ) -> Any:
        """Call `check` every poll interval until it reports done; raises PlatformError on timeout."""
        deadline = self.clock() + self.settings.publish_poll_timeout_seconds
        while True:
            done, value = check()
            if done:
                return value
            if self.clock() >= deadline:
                raise PlatformError(f"{self.platform}: timed out waiting for {what}", code="processing_timeout",
                                    retryable=True)
            self.sleep(self.poll_interval)


def json_or_empty(resp: requests.Response) -> dict[str, Any]:
    """The response's JSON object, or {} when it has none."""
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
