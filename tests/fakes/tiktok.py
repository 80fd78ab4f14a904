"""Fake TikTok Content Posting API (direct post, FILE_UPLOAD) and OAuth token endpoint.

Strict about the media transfer guide's chunk rules at init (5-64 MB chunks in decimal megabytes, files
< 5 MB whole, files > 64 MB in several chunks, total_chunk_count = floor(video_size / chunk_size), 1-1000
chunks, final chunk <= 128 MB) and on every PUT (Content-Type, Content-Range syntax/total, sequential
first byte, exact chunk lengths; a chunk already stored answers 416 with the Content-Range held). The
privacy level must be one of creator_info's privacy_level_options, post_info.brand_content_toggle is
required, an unaudited app may only post SELF_ONLY (403 unaudited_client_can_only_post_to_private_accounts),
and each call needs its scope (video.publish). A public post gets its publicaly_available_post_id only
after moderation. Knobs: a dropped chunk, a chunk stored whose answer is lost, mid-flow token expiry,
429 rate limiting, processing failure (for the first N posts), moderation delay.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from .base import FakeServer, Reply, Request, TokenBook, probe_bytes

MB = 1000 * 1000
MIN_CHUNK, MAX_CHUNK, MAX_FINAL = 5 * MB, 64 * MB, 128 * MB
UNAUDITED = "unaudited_client_can_only_post_to_private_accounts"
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def tt(status: int, code: str = "ok", message: str = "", data: dict[str, Any] | None = None) -> Reply:
    return Reply(status, {"data": data or {}, "error": {"code": code, "message": message, "log_id": "fake"}})


def check_chunk_rules(video_size: int, chunk_size: int, count: int) -> str | None:
    """The media transfer guide's rules; returns what is wrong, or None."""
    if video_size <= 0 or chunk_size <= 0:
        return "video_size and chunk_size must be positive"
    if count != video_size // chunk_size:
        return "total_chunk_count must be floor(video_size / chunk_size)"
    if not 1 <= count <= 1000:
        return "total_chunk_count must be between 1 and 1000"
    if video_size < MIN_CHUNK:
        return None if chunk_size == video_size else "videos under 5 MB must be uploaded whole"
    if video_size > MAX_CHUNK and count < 2:
        return "videos over 64 MB must be uploaded in multiple chunks"
    if chunk_size < MIN_CHUNK or (chunk_size > MAX_CHUNK and count > 1):
        return "chunk_size must be between 5 MB and 64 MB"
    if video_size - (count - 1) * chunk_size > MAX_FINAL:
        return "the final chunk may not exceed 128 MB"
    return None


@dataclass
class Post:
    publish_id: str
    post_info: dict[str, Any]
    video_size: int
    chunk_size: int
    count: int
    data: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    status: str = "PROCESSING_UPLOAD"
    polls: int = 0
    fail_reason: str | None = None
    post_id: int | None = None
    moderation: int = 0


class FakeTikTok(FakeServer):
    CLIENT_KEY = "tt-key"
    CLIENT_SECRET = "tt-secret"

    def __init__(
        self,
        *,
        tokens: TokenBook | None = None,
        privacy_options: tuple[str, ...] = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"),
        max_duration: int = 600,
        drop_chunk: int | None = None,  # 1-based index of the chunk PUT to drop (nothing stored)
        rate_limit_init: int = 0,  # answer this many init calls with 429 rate_limit_exceeded
        retry_after: str | None = "1",
        processing_polls: int = 1,
        fail_reason: str | None = None,  # processing fails with this reason
        fail_posts: int | None = None,  # ... for the first N posts only (None: all)
        audited: bool = True,
        lose_answer: int | None = None,  # 1-based chunk PUT that is stored but never answered
        moderation_polls: int = 0,  # polls a finished public post waits for moderation (no post id yet)
        scopes: tuple[str, ...] = ("video.publish", "video.upload"),
    ) -> None:
        super().__init__()
        self.tokens = tokens or TokenBook(rotate_refresh=True)
        self.tokens.scopes = frozenset(scopes)
        self.fail_posts = fail_posts
        self.audited = audited
        self.lose_answer = lose_answer
        self.moderation_polls = moderation_polls
        self.inits = 0
        self.privacy_options = list(privacy_options)
        self.max_duration = max_duration
        self.drop_chunk = drop_chunk
        self.rate_limit_init = rate_limit_init
        self.retry_after = retry_after
        self.processing_polls = processing_polls
        self.fail_reason = fail_reason
        self.posts: dict[str, Post] = {}
        self.puts = 0
        self.chunk_ranges: list[tuple[int, int]] = []
        self.limited = 0
        self._ids = itertools.count(1)

    def handle(self, req: Request) -> Reply | None:
        with self.lock:
            if req.method == "POST" and req.path == "/v2/oauth/token/":
                return self.token(req)
            if req.method == "PUT" and req.path == "/upload/":
                return self.put(req)
            if req.method == "POST" and req.path.startswith("/v2/post/publish/"):
                if not self.tokens.authorize(req.bearer()):
                    return tt(401, "access_token_invalid", "The access token is invalid or not found in the request.")
                if not self.tokens.allows("video.publish"):
                    return tt(401, "scope_not_authorized", "The user did not authorize the scope required.")
                route = {
                    "/v2/post/publish/creator_info/query/": self.creator_info,
                    "/v2/post/publish/video/init/": self.init,
                    "/v2/post/publish/status/fetch/": self.fetch,
                }.get(req.path)
                if route:
                    return route(req)
            return tt(404, "not_found", "no such endpoint")

    def token(self, req: Request) -> Reply:
        form = req.form()
        if (form.get("client_key"), form.get("client_secret")) != (self.CLIENT_KEY, self.CLIENT_SECRET):
            return Reply(400, {"error": "invalid_client", "error_description": "bad client"})
        if form.get("grant_type") != "refresh_token":
            return Reply(400, {"error": "invalid_request"})
        issued = self.tokens.refresh(form.get("refresh_token"))
        if issued is None:
            return Reply(400, {"error": "invalid_grant", "error_description": "Refresh token is invalid"})
        return Reply(200, {"access_token": issued["access_token"], "expires_in": 86400, "open_id": "open-1",
                           "refresh_expires_in": 31536000, "refresh_token": issued["refresh_token"],
                           "scope": "video.publish", "token_type": "Bearer"})

    def creator_info(self, req: Request) -> Reply:
        return tt(200, data={"creator_avatar_url": "https://example.invalid/a.jpg", "creator_username": "klipfan",
                             "creator_nickname": "Klip Fan", "privacy_level_options": self.privacy_options,
                             "comment_disabled": False, "duet_disabled": True, "stitch_disabled": False,
                             "max_video_post_duration_sec": self.max_duration})

    def init(self, req: Request) -> Reply:
        if self.limited < self.rate_limit_init:
            self.limited += 1
            reply = tt(429, "rate_limit_exceeded", "API rate limit was exceeded")
            if self.retry_after:
                reply.headers["Retry-After"] = self.retry_after
            return reply
        body = req.json()
        post_info, source = body.get("post_info") or {}, body.get("source_info") or {}
        if post_info.get("privacy_level") not in self.privacy_options:
            return tt(400, "privacy_level_option_mismatch", "privacy_level is not among the creator's options")
        if not self.audited and post_info.get("privacy_level") != "SELF_ONLY":
            return tt(403, UNAUDITED, "Unaudited clients can only post to a private account")
        if not isinstance(post_info.get("brand_content_toggle"), bool):
            return tt(400, "invalid_params", "post_info.brand_content_toggle is required")
        if len(str(post_info.get("title", "")).encode("utf-16-le")) // 2 > 2200:
            return tt(400, "invalid_params", "title too long")
        if source.get("source") != "FILE_UPLOAD":
            return tt(400, "invalid_params", "source must be FILE_UPLOAD")
        try:
            size, chunk, count = (int(source[k]) for k in ("video_size", "chunk_size", "total_chunk_count"))
        except (KeyError, TypeError, ValueError):
            return tt(400, "invalid_params", "video_size, chunk_size and total_chunk_count are required")
        problem = check_chunk_rules(size, chunk, count)
        if problem:
            return tt(400, "invalid_params", problem)
        self.inits += 1
        pid = f"v_pub_file~v2-1.{next(self._ids)}"
        self.posts[pid] = Post(pid, post_info, size, chunk, count)
        return tt(200, data={"publish_id": pid, "upload_url": f"{self.url}/upload/?upload_id={pid}&upload_token=x"})

    def put(self, req: Request) -> Reply | None:
        post = self.posts.get(req.query.get("upload_id", ""))
        if post is None:
            return tt(404, "not_found", "unknown upload")
        if req.headers.get("content-type") not in {"video/mp4", "video/quicktime", "video/webm"}:
            return tt(400, "invalid_params", "Content-Type must be a video MIME type")
        m = _RANGE.match(req.headers.get("content-range", ""))
        if not m:
            return tt(400, "invalid_params", "malformed Content-Range")
        first, last, total = map(int, m.groups())
        if post.chunks and last < len(post.data) and total == post.video_size:  # re-sent a stored chunk
            return Reply(416, headers={"Content-Range": f"bytes 0-{len(post.data) - 1}/{post.video_size}"})
        index = post.chunks
        expected_first = index * post.chunk_size
        expected_len = post.chunk_size if index < post.count - 1 else post.video_size - expected_first
        if index >= post.count or total != post.video_size or first != expected_first:
            return tt(400, "invalid_params", f"chunks must be sent in order; expected byte {expected_first}")
        if last - first + 1 != expected_len or len(req.body) != expected_len:
            return tt(400, "invalid_params", f"chunk {index} must be {expected_len} bytes")
        if int(req.headers.get("content-length", -1)) != expected_len:
            return tt(400, "invalid_params", "Content-Length does not match")
        self.puts += 1
        if self.drop_chunk is not None and self.puts == self.drop_chunk:
            return None
        post.data += req.body
        post.chunks += 1
        self.chunk_ranges.append((first, last))
        held = {"Content-Range": f"bytes 0-{len(post.data) - 1}/{post.video_size}"}
        if post.chunks == post.count:
            post.status = "PROCESSING_UPLOAD"
        if self.lose_answer is not None and self.puts == self.lose_answer:
            return None  # stored, but the answer never arrives (a client timeout)
        return Reply(206 if post.chunks < post.count else 201, headers=held)

    def fetch(self, req: Request) -> Reply:
        post = self.posts.get(req.json().get("publish_id", ""))
        if post is None:
            return tt(400, "invalid_publish_id", "publish_id not found")
        if post.chunks == post.count and post.status == "PROCESSING_UPLOAD":
            post.polls += 1
            if post.polls > self.processing_polls:
                media = probe_bytes(bytes(post.data))
                failing = bool(self.fail_reason) and (
                    self.fail_posts is None or list(self.posts).index(post.publish_id) < self.fail_posts)
                if failing or media is None:
                    post.status = "FAILED"
                    post.fail_reason = self.fail_reason if failing else "file_format_check_failed"
                elif media["duration"] > self.max_duration:
                    post.status, post.fail_reason = "FAILED", "duration_check_failed"
                else:
                    post.status, post.post_id = "PUBLISH_COMPLETE", 7300000000000000000 + len(self.posts)
        data: dict[str, Any] = {"status": post.status, "uploaded_bytes": len(post.data)}
        if post.fail_reason:
            data["fail_reason"] = post.fail_reason
        if post.post_id is not None and post.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE":
            post.moderation += 1
            if post.moderation > self.moderation_polls:  # no post id until moderation is done
                data["publicaly_available_post_id"] = [post.post_id]
        return tt(200, data=data)
