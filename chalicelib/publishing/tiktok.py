"""TikTok Content Posting API client: direct post with FILE_UPLOAD.

Protocol (developers.tiktok.com/doc/content-posting-api-reference-direct-post and the media transfer guide):
1. POST /v2/post/publish/creator_info/query/ -> privacy_level_options, interaction switches, max duration.
2. POST /v2/post/publish/video/init/ {post_info, source_info: {source: FILE_UPLOAD, video_size, chunk_size,
   total_chunk_count}} -> publish_id and upload_url.
3. PUT each chunk to upload_url, in order, with Content-Type video/mp4 and
   `Content-Range: bytes FIRST-LAST/TOTAL` (206 while partial, 201 when complete).
4. POST /v2/post/publish/status/fetch/ {publish_id} until PUBLISH_COMPLETE or FAILED (fail_reason).
Chunk rules: 5-64 MB chunks, the last one absorbs the trailing bytes (up to 128 MB), files under 5 MB go
whole, files over 64 MB need at least two chunks, 1-1000 chunks, total_chunk_count = floor(size/chunk).
Tokens are refreshed via POST /v2/oauth/token/ grant_type=refresh_token.

After a chunk PUT times out the chunk may have been stored: the re-PUT then answers 416 with the
Content-Range TikTok holds, and the upload moves on from there. An unaudited app gets 403
unaudited_client_can_only_post_to_private_accounts for anything but SELF_ONLY (final). A public post gets
its publicaly_available_post_id only after moderation (minutes, sometimes hours): the publish_id is the
resume handle until then, never the post id. fail_reason `internal` is documented as retryable (the post
failed, so the retry posts again); other fail reasons are final.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from .base import (
    TRANSIENT_STATUSES,
    PlatformClient,
    PublishRequest,
    PublishResult,
    TokenSet,
    caption_text,
    json_or_empty,
)
from .errors import AuthFailed, LimitExceeded, PlatformError, UploadFailed

MiB = 1024 * 1024
# Conservative bounds that satisfy the rules whether "MB" means 10^6 or 2^20 bytes.
MIN_CHUNK = 5 * MiB
MAX_CHUNK = 64 * 1000 * 1000
MAX_FINAL_CHUNK = 128 * 1000 * 1000
MAX_CHUNKS = 1000
MAX_CAPTION = 2200

PRIVACY_LEVELS = {
    "public": "PUBLIC_TO_EVERYONE",
    "friends": "MUTUAL_FOLLOW_FRIENDS",
    "followers": "FOLLOWER_OF_CREATOR",
    "private": "SELF_ONLY",
}
POST_URL = "https://www.tiktok.com/@{username}/video/{id}"
UNAUDITED = "unaudited_client_can_only_post_to_private_accounts"
RETRYABLE_FAIL_REASONS = frozenset({"internal"})
REFRESH_TOKEN_LIFETIME = 365 * 86400.0
REFRESH_TOKEN_MARGIN = 30 * 86400.0  # rotate refresh tokens a month before they expire
_HELD = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class ChunkPlan:
    video_size: int
    chunk_size: int
    total_chunk_count: int

    @property
    def final_chunk_size(self) -> int:
        return self.video_size - (self.total_chunk_count - 1) * self.chunk_size

    def ranges(self) -> Iterator[tuple[int, int]]:
        """(first byte, last byte) of each chunk, in upload order."""
        for i in range(self.total_chunk_count):
            first = i * self.chunk_size
            last = self.video_size - 1 if i == self.total_chunk_count - 1 else first + self.chunk_size - 1
            yield first, last


def plan_chunks(video_size: int, preferred: int = 10 * MiB) -> ChunkPlan:
    """Choose chunk_size and total_chunk_count for `video_size` bytes following TikTok's chunk rules."""
    if video_size <= 0:
        raise LimitExceeded("TikTok: the video is empty", code="empty_video")
    if video_size < MIN_CHUNK:
        return ChunkPlan(video_size, video_size, 1)
    chunk = min(max(preferred, MIN_CHUNK), MAX_CHUNK)
    if video_size <= chunk:
        return ChunkPlan(video_size, video_size, 1)
    count = video_size // chunk
    if count == 1:
        if video_size <= MAX_CHUNK:
            return ChunkPlan(video_size, video_size, 1)
        chunk = video_size // 2  # over 64 MB: at least two chunks, each within bounds
        count = video_size // chunk
    if count > MAX_CHUNKS:
        chunk = math.ceil(video_size / MAX_CHUNKS)
        if chunk > MAX_CHUNK:
            raise LimitExceeded("TikTok: the video is too large for 1000 chunks of 64 MB", code="video_too_large")
        count = video_size // chunk
    plan = ChunkPlan(video_size, chunk, count)
    assert MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK and plan.final_chunk_size <= MAX_FINAL_CHUNK
    return plan


def caption_for(req: PublishRequest) -> str:
    """Title, description and hashtags as one caption within TikTok's 2200 UTF-16 code units."""
    text = caption_text(req)
    while len(text.encode("utf-16-le")) // 2 > MAX_CAPTION:
        text = text[:-1]
    return text


class TikTokClient(PlatformClient):
    platform = "tiktok"

    @property
    def base(self) -> str:
        return self.settings.tiktok_api_base_url.rstrip("/")

    def _apply_auth(self, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.tokens.access_token}"

    @staticmethod
    def _error_code(resp: requests.Response) -> str:
        err = json_or_empty(resp).get("error")
        return str(err.get("code", "")) if isinstance(err, dict) else ""

    def _is_auth_error(self, resp: requests.Response) -> bool:
        return resp.status_code == 401 or self._error_code(resp) == "access_token_invalid"

    def _throttle_delay(self, resp: requests.Response, attempt: int) -> float | None:
        if resp.status_code == 429 or self._error_code(resp) == "rate_limit_exceeded":
            return self._backoff(attempt, resp)
        return None

    def scheduled_refresh_due(self, now: float, connected_at: float) -> bool:
        """The refresh token (365 days, rotated on refresh) nears expiry; unknown expiry counts from connecting.

        Never without the app's client key (a refresh could only fail, and the token is not at fault).
        """
        if not (self.settings.tiktok_client_key and self.tokens.refresh_token):
            return False
        expires = self.tokens.extra.get("refresh_expires_at")
        expires_at = float(expires) if expires is not None else connected_at + REFRESH_TOKEN_LIFETIME
        return expires_at - now <= REFRESH_TOKEN_MARGIN

    def _refresh(self) -> TokenSet:
        resp = self.request(
            "POST",
            f"{self.base}/v2/oauth/token/",
            auth=False,
            data={
                "client_key": self.settings.tiktok_client_key,
                "client_secret": self.settings.tiktok_client_secret,
                "grant_type": "refresh_token",
                "refresh_token": self.tokens.refresh_token,
            },
        )
        body = json_or_empty(resp)
        if resp.status_code != 200 or "access_token" not in body:
            raise AuthFailed(f"TikTok refused the refresh token ({body.get('error', resp.status_code)}); "
                             "reconnect the account")
        extra = dict(self.tokens.extra)
        if body.get("open_id"):
            extra["open_id"] = body["open_id"]
        if body.get("refresh_expires_in"):
            extra["refresh_expires_at"] = self.clock() + float(body["refresh_expires_in"])
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or self.tokens.refresh_token,
            expires_at=self.clock() + float(body.get("expires_in", 86400)),
            extra=extra,
        )

    def _api(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a JSON call; returns `data` or raises PlatformError with TikTok's error code."""
        resp = self.request(
            "POST",
            f"{self.base}{path}",
            json=body if body is not None else {},
            headers={"Content-Type": "application/json; charset=UTF-8"},
        )
        payload = json_or_empty(resp)
        err = payload.get("error") or {}
        if resp.status_code != 200 or err.get("code", "ok") != "ok":
            code = str(err.get("code") or f"http_{resp.status_code}")
            if code == UNAUDITED:
                raise LimitExceeded("TikTok: this app is not audited, so it may only post SELF_ONLY (privacy "
                                    "\"private\") to private accounts", code="tiktok_unaudited_client",
                                    param="privacy")
            raise PlatformError(f"TikTok {path} failed: {code}: {err.get('message', '')}".strip(),
                                code=f"tiktok_{code}")
        return payload.get("data") or {}

    def creator_info(self) -> dict[str, Any]:
        return self._api("/v2/post/publish/creator_info/query/")

    def init_post(self, req: PublishRequest, plan: ChunkPlan, info: dict[str, Any]) -> dict[str, Any]:
        level = PRIVACY_LEVELS.get(req.privacy)
        options = list(info.get("privacy_level_options") or [])
        if level is None or level not in options:
            allowed = sorted(k for k, v in PRIVACY_LEVELS.items() if v in options)
            raise LimitExceeded(f"TikTok account allows privacy {allowed}, not {req.privacy!r}",
                                code="privacy_not_allowed")
        max_seconds = info.get("max_video_post_duration_sec")
        if max_seconds and req.duration > float(max_seconds):
            raise LimitExceeded(f"TikTok account allows videos up to {max_seconds}s; the clip is "
                                f"{req.duration:.1f}s", code="clip_too_long")
        body = {
            "post_info": {
                "title": caption_for(req),
                "privacy_level": level,
                "disable_duet": bool(info.get("duet_disabled", False)),
                "disable_comment": bool(info.get("comment_disabled", False)),
                "disable_stitch": bool(info.get("stitch_disabled", False)),
                "video_cover_timestamp_ms": 1000,
                "brand_content_toggle": False,  # required: a paid partnership would need disclosure
                "brand_organic_toggle": False,
            },
            "source_info": {
                "source": "FILE_UPLOAD",
                "video_size": plan.video_size,
                "chunk_size": plan.chunk_size,
                "total_chunk_count": plan.total_chunk_count,
            },
        }
        data = self._api("/v2/post/publish/video/init/", body)
        if not data.get("publish_id") or not data.get("upload_url"):
            raise PlatformError("TikTok init returned no publish_id/upload_url")
        return data

    @staticmethod
    def held_through(resp: requests.Response) -> int | None:
        """Last byte TikTok reports holding (the answer's Content-Range), None when it reports none."""
        match = _HELD.match(resp.headers.get("Content-Range", "").strip())
        return int(match.group(2)) if match else None

    def upload(self, upload_url: str, req: PublishRequest, plan: ChunkPlan) -> None:
        """PUT the chunks in order; a chunk whose answer was lost is sent again, unless TikTok has it (416)."""
        with req.path.open("rb") as fh:
            for first, last in plan.ranges():
                fh.seek(first)
                data = fh.read(last - first + 1)
                self._put_chunk(upload_url, req, plan, first, last, data)

    def _put_chunk(self, upload_url: str, req: PublishRequest, plan: ChunkPlan, first: int, last: int,
                   data: bytes) -> None:
        failures = 0
        while True:
            try:
                resp = self.request(
                    "PUT",
                    upload_url,
                    auth=False,
                    retry_transient=False,
                    data=data,
                    headers={
                        "Content-Type": req.content_type,
                        "Content-Length": str(len(data)),
                        "Content-Range": f"bytes {first}-{last}/{plan.video_size}",
                    },
                )
            except (requests.ConnectionError, requests.Timeout):
                resp = None
            if resp is not None and resp.status_code in (200, 201, 206):
                return
            if resp is not None and resp.status_code == 416:
                held = self.held_through(resp)
                if held is not None and held >= last:
                    return  # the lost answer's chunk was stored: go on after it
            if resp is not None and resp.status_code not in (416, *TRANSIENT_STATUSES):
                raise PlatformError(f"TikTok rejected bytes {first}-{last}: HTTP {resp.status_code} "
                                    f"{self._error_code(resp)}".strip(), code="tiktok_upload_rejected")
            if failures >= self.settings.publish_max_retries:
                raise UploadFailed(f"TikTok upload kept failing at bytes {first}-{last} of {plan.video_size}")
            self.wait(self._backoff(failures, resp))
            failures += 1

    @staticmethod
    def public_ids(data: dict[str, Any]) -> list[str]:
        ids = data.get("publicaly_available_post_id") or []
        return [str(i) for i in (ids if isinstance(ids, list) else [ids])]

    def wait_published(self, publish_id: str, *, public: bool) -> dict[str, Any]:
        """Poll until PUBLISH_COMPLETE (and, for a public post, until moderation gives it a post id)."""

        def check() -> tuple[bool, dict[str, Any]]:
            data = self._api("/v2/post/publish/status/fetch/", {"publish_id": publish_id})
            status = data.get("status")
            if status == "PUBLISH_COMPLETE" and (self.public_ids(data) or not public):
                return True, data
            if status == "FAILED":
                reason = str(data.get("fail_reason") or "unknown")
                retry = reason in RETRYABLE_FAIL_REASONS
                raise PlatformError(f"TikTok could not publish the video: {reason}",
                                    code=f"tiktok_{reason}" if retry else "platform_processing_failed",
                                    retryable=retry, restart=retry)
            return False, data

        return self.poll_until(check, "TikTok publishing (and moderation of public posts)")

    def publish(self, req: PublishRequest) -> PublishResult:
        self.ensure_fresh()
        info = self.creator_info()
        plan = plan_chunks(req.size, self.settings.tiktok_chunk_bytes)
        init = self.init_post(req, plan, info)
        self.upload(init["upload_url"], req, plan)
        self.posted(str(init["publish_id"]))
        return self._finish(str(init["publish_id"]), req, info)

    def resume(self, ref: str, req: PublishRequest) -> PublishResult:
        self.ensure_fresh()
        return self._finish(ref, req, self.creator_info())

    def _finish(self, publish_id: str, req: PublishRequest, info: dict[str, Any]) -> PublishResult:
        self.status("processing")
        public = PRIVACY_LEVELS.get(req.privacy) == "PUBLIC_TO_EVERYONE"
        ids = self.public_ids(self.wait_published(publish_id, public=public))
        if ids:
            username = info.get("creator_username") or ""
            url = POST_URL.format(username=username, id=ids[0]) if username else None
            return PublishResult(post_id=ids[0], post_url=url)
        # posts not public to everyone never get a public id; the publish id is the handle TikTok gives
        return PublishResult(post_id=publish_id, post_url=None)
