"""YouTube Data API v3 client: videos.insert with the resumable upload protocol, posted as a Short.

Protocol (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
1. POST {base}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status with the video resource
   as JSON and X-Upload-Content-Length / X-Upload-Content-Type -> 200 with the session URI in Location.
2. PUT the bytes to the session URI in chunks whose size is a multiple of 256 KiB (except the last), each
   with `Content-Range: bytes FIRST-LAST/TOTAL`; 308 "Resume Incomplete" with `Range: bytes=0-N` means
   more is expected, 200/201 with the video resource means done.
3. After an interruption, PUT an empty body with `Content-Range: bytes */TOTAL`; the 308's Range header
   says what the server holds, and the upload resumes from the byte after it.
Then videos.list?part=status,processingDetails is polled until uploadStatus is processed (or failed /
rejected). Tokens are refreshed via oauth2.googleapis.com/token with the refresh token.

Scopes: videos.insert needs youtube.upload; the processing poll (videos.list) needs youtube.readonly (or
youtube / youtube.force-ssl). With an upload-only grant the poll answers 403 insufficientPermissions: the
video is live, so the publication is reported published without the processing verdict.
Errors: rateLimitExceeded / userRateLimitExceeded back off; the daily quotaExceeded (an insert costs 1600 of
the default 10,000 units a day) is final, as in google-api-python-client, which never retries it.
Fields: description <= 5000 UTF-8 bytes without < or >, tags <= 500 characters in total (limits.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import requests

from .base import (
    TRANSIENT_STATUSES,
    PlatformClient,
    PublishRequest,
    PublishResult,
    TokenSet,
    json_or_empty,
)
from .errors import AuthFailed, LimitExceeded, PlatformError, PublishError, QuotaExceeded, UploadFailed
from .limits import YOUTUBE_DESCRIPTION_BYTES, fit_youtube_tags, shorts_description

log = logging.getLogger(__name__)

GRANULE = 256 * 1024
THROTTLE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
SCOPE_REASONS = frozenset({"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT"})
PRIVACY = frozenset({"public", "unlisted", "private"})
SHORTS_URL = "https://www.youtube.com/shorts/{id}"
_RANGE = re.compile(r"bytes=0-(\d+)$")


def google_error(resp: requests.Response) -> tuple[str, str]:
    """(reason, message) of a Google API error body."""
    err = json_or_empty(resp).get("error")
    if not isinstance(err, dict):
        return "", f"HTTP {resp.status_code}"
    errors = err.get("errors") or [{}]
    reason = str(errors[0].get("reason") or err.get("status") or "")
    return reason, str(err.get("message") or f"HTTP {resp.status_code}")


def chunk_size_for(preferred: int) -> int:
    """The preferred chunk size rounded down to a multiple of 256 KiB (at least 256 KiB)."""
    return max(GRANULE, preferred // GRANULE * GRANULE)


def clean_title(title: str) -> str:
    """YouTube titles: 1-100 characters, no angle brackets."""
    cleaned = re.sub(r"[<>]", "", title).strip()[:100]
    return cleaned or "Untitled"


def clean_description(description: str) -> str:
    """YouTube descriptions: no angle brackets, "#Shorts" appended, at most 5000 UTF-8 bytes."""
    body = re.sub(r"[<>]", "", description)
    text = shorts_description(body)
    while len(text.encode()) > YOUTUBE_DESCRIPTION_BYTES:
        over = len(text.encode()) - YOUTUBE_DESCRIPTION_BYTES
        body = body.encode()[: max(0, len(body.encode()) - over)].decode("utf-8", "ignore").rstrip()
        text = shorts_description(body)
    return text


class YouTubeClient(PlatformClient):
    platform = "youtube"

    @property
    def base(self) -> str:
        return self.settings.youtube_api_base_url.rstrip("/")

    def _apply_auth(self, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.tokens.access_token}"

    def _final_error(self, resp: requests.Response) -> PublishError | None:
        if resp.status_code == 403 and google_error(resp)[0] == "quotaExceeded":
            return QuotaExceeded("YouTube: the project's daily API quota is used up (an upload costs 1600 of "
                                 "the default 10,000 units); it resets at midnight Pacific time",
                                 code="daily_quota_exceeded", retryable=False)
        return None

    def _throttle_delay(self, resp: requests.Response, attempt: int) -> float | None:
        if resp.status_code == 429:
            return self._backoff(attempt, resp)
        if resp.status_code == 403 and google_error(resp)[0] in THROTTLE_REASONS:
            return self._backoff(attempt, resp)
        return None

    def _refresh(self) -> TokenSet:
        resp = self.request(
            "POST",
            self.settings.google_token_url,
            auth=False,
            data={
                "client_id": self.settings.youtube_client_id,
                "client_secret": self.settings.youtube_client_secret,
                "refresh_token": self.tokens.refresh_token,
                "grant_type": "refresh_token",
            },
        )
        body = json_or_empty(resp)
        if resp.status_code != 200 or "access_token" not in body:
            raise AuthFailed(f"Google refused the refresh token ({body.get('error', resp.status_code)}); "
                             "reconnect the account")
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token") or self.tokens.refresh_token,
            expires_at=self.clock() + float(body.get("expires_in", 3600)),
            extra=self.tokens.extra,
        )

    # --- publishing ------------------------------------------------------------------------------

    def video_resource(self, req: PublishRequest) -> dict[str, Any]:
        if req.privacy not in PRIVACY:
            raise LimitExceeded(f"YouTube privacy must be one of {sorted(PRIVACY)}, not {req.privacy!r}",
                                code="privacy_not_allowed")
        return {
            "snippet": {
                "title": clean_title(req.title),
                "description": clean_description(req.description),
                "tags": fit_youtube_tags(req.tags),
                "categoryId": "22",
            },
            "status": {"privacyStatus": req.privacy, "selfDeclaredMadeForKids": False},
        }

    def start_session(self, req: PublishRequest, size: int) -> str:
        """Step 1: create the resumable session; returns the session URI."""
        resp = self.request(
            "POST",
            f"{self.base}/upload/youtube/v3/videos",
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=self.video_resource(req),
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(size),
                "X-Upload-Content-Type": req.content_type,
            },
        )
        location = resp.headers.get("Location")
        if resp.status_code != 200 or not location:
            reason, message = google_error(resp)
            raise PlatformError(f"YouTube refused the upload: {message}", code=f"youtube_{reason or 'error'}")
        return location

    def query_offset(self, session_uri: str, size: int) -> tuple[int, dict[str, Any] | None]:
        """Step 3: ask how many bytes the server holds -> (next offset, video resource if complete)."""
        resp = self.request(
            "PUT",
            session_uri,
            data=b"",
            headers={"Content-Length": "0", "Content-Range": f"bytes */{size}"},
            retry_transient=False,
        )
        if resp.status_code in (200, 201):
            return size, resp.json()
        if resp.status_code == 308:
            return self._next_offset(resp), None
        if resp.status_code == 404:
            raise UploadFailed("YouTube upload session expired", code="upload_session_expired")
        if resp.status_code in TRANSIENT_STATUSES:
            raise requests.ConnectionError(f"status query answered {resp.status_code}")
        raise PlatformError(f"YouTube upload status query failed: {google_error(resp)[1]}")

    @staticmethod
    def _next_offset(resp: requests.Response) -> int:
        match = _RANGE.match(resp.headers.get("Range", "").strip())
        return int(match.group(1)) + 1 if match else 0

    def upload(self, session_uri: str, req: PublishRequest, size: int) -> dict[str, Any]:
        """Step 2: PUT the file in 256 KiB-multiple chunks, resuming after interruptions."""
        chunk = chunk_size_for(self.settings.youtube_chunk_bytes)
        offset = 0
        failures = 0
        with req.path.open("rb") as fh:
            while True:
                fh.seek(offset)
                data = fh.read(chunk)
                last = offset + len(data) - 1
                resp: requests.Response | None
                try:
                    resp = self.request(
                        "PUT",
                        session_uri,
                        data=data,
                        headers={
                            "Content-Type": req.content_type,
                            "Content-Length": str(len(data)),
                            "Content-Range": f"bytes {offset}-{last}/{size}",
                        },
                        retry_transient=False,
                    )
                except (requests.ConnectionError, requests.Timeout):
                    resp = None
                if resp is not None:
                    if resp.status_code in (200, 201):
                        return resp.json()
                    if resp.status_code == 308:
                        offset = self._next_offset(resp)
                        failures = 0
                        continue
                    if resp.status_code == 404:
                        raise UploadFailed("YouTube upload session expired", code="upload_session_expired")
                    if resp.status_code not in TRANSIENT_STATUSES:
                        reason, message = google_error(resp)
                        raise PlatformError(f"YouTube rejected a chunk: {message}",
                                            code=f"youtube_{reason or 'error'}")
                # interrupted: wait, then ask the server where to resume
                while True:
                    if failures >= self.settings.publish_max_retries:
                        raise UploadFailed(f"YouTube upload kept failing at byte {offset} of {size}")
                    self.wait(self._backoff(failures))
                    failures += 1
                    try:
                        offset, video = self.query_offset(session_uri, size)
                    except (requests.ConnectionError, requests.Timeout):
                        continue
                    if video is not None:
                        return video
                    break

    def wait_processed(self, video_id: str) -> dict[str, Any] | None:
        """Poll videos.list until YouTube has processed (or failed/rejected) the upload.

        None when the grant lacks a read scope (403 insufficientPermissions): the upload stands, unverified.
        """

        def check() -> tuple[bool, dict[str, Any] | None]:
            resp = self.request(
                "GET",
                f"{self.base}/youtube/v3/videos",
                params={"part": "status,processingDetails", "id": video_id},
            )
            if resp.status_code == 403 and google_error(resp)[0] in SCOPE_REASONS:
                log.warning("YouTube grant lacks youtube.readonly; video %s is uploaded, processing unchecked",
                            video_id)
                return True, None
            items = json_or_empty(resp).get("items") or []
            if resp.status_code != 200 or not items:
                raise PlatformError(f"YouTube lost video {video_id}: {google_error(resp)[1]}")
            status = items[0].get("status", {})
            state = status.get("uploadStatus")
            if state == "processed":
                return True, items[0]
            if state in {"failed", "rejected", "deleted"}:
                reason = status.get("failureReason") or status.get("rejectionReason") or state
                raise PlatformError(f"YouTube could not process the video: {reason}",
                                    code="platform_processing_failed")
            return False, items[0]

        return self.poll_until(check, "YouTube processing")

    def publish(self, req: PublishRequest) -> PublishResult:
        size = req.size
        self.ensure_fresh()
        session_uri = self.start_session(req, size)
        video = self.upload(session_uri, req, size)
        video_id = str(video["id"])
        self.posted(video_id)
        applied = (video.get("status") or {}).get("privacyStatus")
        return self._finish(video_id, applied if applied in PRIVACY else None)

    def resume(self, ref: str, req: PublishRequest) -> PublishResult:
        self.ensure_fresh()
        return self._finish(ref, None)

    def _finish(self, video_id: str, privacy: str | None) -> PublishResult:
        self.status("processing")
        item = self.wait_processed(video_id)
        if item is not None:
            privacy = (item.get("status") or {}).get("privacyStatus") or privacy
        return PublishResult(post_id=video_id, post_url=SHORTS_URL.format(id=video_id), privacy=privacy)
