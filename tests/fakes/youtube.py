"""Fake YouTube Data API v3 + Google OAuth token endpoint implementing the resumable upload protocol.

Strict about: the session request (X-Upload-Content-Length / -Type, snippet.title, status.privacyStatus,
a description of at most 5000 UTF-8 bytes without < or >, tags of at most 500 characters in total with
commas and quotes counted), Content-Range syntax and totals, chunks starting exactly where the stored
bytes end, non-final chunks being multiples of 256 KiB, body length matching the range, and the grant's
scopes per call (videos.insert: youtube.upload / youtube / youtube.force-ssl; videos.list: youtube.readonly
/ youtube / youtube.force-ssl, else 403 insufficientPermissions). A daily quota (10,000 units; insert 1600,
list 1) answers 403 quotaExceeded once spent. An unverified project's uploads are locked to private.
Knobs simulate a dropped chunk (part of it stored, connection closed), an access token expiring
mid-upload, rate-limit answers with Retry-After, and processing that fails.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from .base import FakeServer, Reply, Request, TokenBook, probe_bytes

GRANULE = 256 * 1024
SCOPE = "https://www.googleapis.com/auth/"
UPLOAD_SCOPES = (f"{SCOPE}youtube.upload", f"{SCOPE}youtube", f"{SCOPE}youtube.force-ssl")
READ_SCOPES = (f"{SCOPE}youtube.readonly", f"{SCOPE}youtube", f"{SCOPE}youtube.force-ssl")
INSERT_COST, LIST_COST = 1600, 1


def tags_length(tags: list[str]) -> int:
    """YouTube's count: each tag, quotes around one with a space, a comma between tags."""
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(0, len(tags) - 1)
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_QUERY = re.compile(r"^bytes \*/(\d+)$")


def g_error(status: int, reason: str, message: str) -> Reply:
    return Reply(status, {"error": {"code": status, "message": message,
                                    "errors": [{"reason": reason, "message": message, "domain": "youtube"}]}})


@dataclass
class Session:
    upload_id: str
    total: int
    content_type: str
    resource: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str | None = None


class FakeYouTube(FakeServer):
    CLIENT_ID = "yt-client"
    CLIENT_SECRET = "yt-secret"

    def __init__(
        self,
        *,
        tokens: TokenBook | None = None,
        drop_chunk: int | None = None,  # 1-based index of the data PUT to drop (after storing half of it)
        throttle_session: int = 0,  # answer this many session POSTs with 403 rateLimitExceeded
        retry_after: str = "1",
        processing_polls: int = 1,  # polls answered "uploaded" before the verdict
        fail_processing: bool = False,
        scopes: tuple[str, ...] = (f"{SCOPE}youtube.upload", f"{SCOPE}youtube.readonly"),
        quota_units: int = 10_000,  # the project's daily quota
        verified: bool = True,  # unverified projects' uploads are locked to private
    ) -> None:
        super().__init__()
        self.tokens = tokens or TokenBook()
        self.tokens.scopes = frozenset(scopes)
        self.quota_units = quota_units
        self.verified = verified
        self.quota_refusals = 0
        self.drop_chunk = drop_chunk
        self.throttle_session = throttle_session
        self.retry_after = retry_after
        self.processing_polls = processing_polls
        self.fail_processing = fail_processing
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.data_puts = 0
        self.chunk_sizes: list[int] = []
        self.chunk_starts: list[int] = []
        self.status_queries = 0
        self.throttled = 0
        self._ids = itertools.count(1)

    # --- routing ---------------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply | None:
        with self.lock:
            if req.method == "POST" and req.path == "/token":
                return self.token(req)
            if req.path == "/upload/youtube/v3/videos":
                if not self.tokens.authorize(req.bearer()):
                    return Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                                 "message": "Request had invalid authentication credentials."}})
                if req.method == "POST":
                    return self.refusal(UPLOAD_SCOPES, INSERT_COST) or self.start_session(req)
                if req.method == "PUT":
                    return self.put(req)
            if req.method == "GET" and req.path == "/youtube/v3/videos":
                if not self.tokens.authorize(req.bearer()):
                    return Reply(401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "expired"}})
                return self.refusal(READ_SCOPES, LIST_COST) or self.list_videos(req)
            return Reply(404, {"error": {"code": 404, "message": "not found"}})

    def refusal(self, scopes: tuple[str, ...], cost: int) -> Reply | None:
        """403 for a grant without the call's scope, or once the daily quota cannot pay for the call."""
        if not self.tokens.allows(*scopes):
            return g_error(403, "insufficientPermissions", "Request had insufficient authentication scopes.")
        if self.quota_units < cost:
            self.quota_refusals += 1
            return g_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded "
                                                 "your quota.")
        self.quota_units -= cost
        return None

    def token(self, req: Request) -> Reply:
        form = req.form()
        if form.get("grant_type") != "refresh_token" or (form.get("client_id"), form.get("client_secret")) != (
            self.CLIENT_ID, self.CLIENT_SECRET
        ):
            return Reply(400, {"error": "invalid_client"})
        issued = self.tokens.refresh(form.get("refresh_token"))
        if issued is None:
            return Reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        return Reply(200, {"access_token": issued["access_token"], "expires_in": 3599,
                           "scope": " ".join(sorted(self.tokens.scopes)), "token_type": "Bearer"})

    # --- step 1 ----------------------------------------------------------------------------------

    def start_session(self, req: Request) -> Reply:
        if req.query.get("uploadType") != "resumable":
            return g_error(400, "invalidUploadType", "uploadType must be resumable")
        parts = set(req.query.get("part", "").split(","))
        if not {"snippet", "status"} <= parts:
            return g_error(400, "invalidPart", "part must include snippet,status")
        if self.throttled < self.throttle_session:
            self.throttled += 1
            reply = g_error(403, "rateLimitExceeded", "The request cannot be completed: rate limit")
            reply.headers["Retry-After"] = self.retry_after
            return reply
        try:
            total = int(req.headers["x-upload-content-length"])
        except (KeyError, ValueError):
            return g_error(400, "uploadLengthMissing", "X-Upload-Content-Length is required")
        ctype = req.headers.get("x-upload-content-type", "")
        if not (ctype.startswith("video/") or ctype == "application/octet-stream"):
            return g_error(400, "invalidContentType", "X-Upload-Content-Type must be video/*")
        resource = req.json()
        title = resource.get("snippet", {}).get("title", "")
        if not title or len(title) > 100 or "<" in title or ">" in title:
            return g_error(400, "invalidTitle", "invalid title")
        if resource.get("status", {}).get("privacyStatus") not in {"public", "unlisted", "private"}:
            return g_error(400, "invalidPrivacyStatus", "invalid privacyStatus")
        description = resource.get("snippet", {}).get("description", "")
        if len(description.encode()) > 5000 or "<" in description or ">" in description:
            return g_error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
        if tags_length(list(resource.get("snippet", {}).get("tags") or [])) > 500:
            return g_error(400, "invalidTags", "The request metadata specifies invalid video keywords.")
        if not self.verified:  # "all videos uploaded ... from unverified API projects ... will be restricted"
            resource = {**resource, "status": {**resource["status"], "privacyStatus": "private"}}
        upload_id = f"up{next(self._ids)}"
        self.sessions[upload_id] = Session(upload_id, total, ctype, resource)
        location = f"{self.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}"
        return Reply(200, headers={"Location": location})

    # --- steps 2 and 3 ---------------------------------------------------------------------------

    def _incomplete(self, s: Session) -> Reply:
        headers = {"Range": f"bytes=0-{len(s.data) - 1}"} if s.data else {}
        return Reply(308, headers=headers)

    def put(self, req: Request) -> Reply | None:
        s = self.sessions.get(req.query.get("upload_id", ""))
        if s is None:
            return g_error(404, "notFound", "upload session not found")
        content_range = req.headers.get("content-range", "")
        query = _QUERY.match(content_range)
        if query:
            self.status_queries += 1
            if req.body or int(query.group(1)) != s.total:
                return g_error(400, "badRequest", "status query must be empty and carry the total")
            return self._done(s) if s.video_id else self._incomplete(s)
        m = _RANGE.match(content_range)
        if not m:
            return g_error(400, "badContentRange", f"malformed Content-Range {content_range!r}")
        first, last, total = map(int, m.groups())
        length = last - first + 1
        if total != s.total or last >= total or first > last:
            return g_error(400, "badContentRange", "Content-Range does not match the session")
        if first != len(s.data):
            return g_error(400, "badContentRange", f"expected bytes from {len(s.data)}, got {first}")
        if len(req.body) != length or int(req.headers.get("content-length", -1)) != length:
            return g_error(400, "badContentLength", "body length does not match Content-Range")
        if last + 1 < total and length % GRANULE:
            return g_error(400, "badChunkSize", "non-final chunks must be multiples of 256 KiB")
        self.data_puts += 1
        if self.drop_chunk is not None and self.data_puts == self.drop_chunk:
            s.data += req.body[: length // 2 + 12345 if length > 24690 else length // 2]
            return None
        self.chunk_sizes.append(length)
        self.chunk_starts.append(first)
        s.data += req.body
        if len(s.data) < s.total:
            return self._incomplete(s)
        vid = f"vid{next(self._ids)}"
        s.video_id = vid
        self.videos[vid] = {"session": s, "polls": 0, "state": "uploaded"}
        return self._done(s)

    def _done(self, s: Session) -> Reply:
        res = s.resource
        return Reply(200, {"kind": "youtube#video", "id": s.video_id, "snippet": res.get("snippet"),
                           "status": {**res.get("status", {}), "uploadStatus": "uploaded"}})

    def list_videos(self, req: Request) -> Reply:
        video = self.videos.get(req.query.get("id", ""))
        if video is None:
            return Reply(200, {"kind": "youtube#videoListResponse", "items": []})
        video["polls"] += 1
        if video["state"] == "uploaded" and video["polls"] > self.processing_polls:
            media = probe_bytes(bytes(video["session"].data))
            video["state"] = "failed" if self.fail_processing or media is None else "processed"
            video["media"] = media
        status: dict[str, Any] = {"uploadStatus": video["state"],
                                  "privacyStatus": video["session"].resource["status"]["privacyStatus"]}
        if video["state"] == "failed":
            status["failureReason"] = "codec" if video.get("media") is None else "conversion"
        return Reply(200, {"kind": "youtube#videoListResponse",
                           "items": [{"id": req.query["id"], "status": status}]})

    def received(self, video_id: str) -> bytes:
        return bytes(self.videos[video_id]["session"].data)
