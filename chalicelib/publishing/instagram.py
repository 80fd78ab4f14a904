"""Instagram Graph API client: Reels through a media container.

Protocol (developers.facebook.com/docs/instagram-platform/content-publishing, IG Container reference):
1. POST /{version}/{ig-user-id}/media {media_type: REELS, video_url, caption, share_to_feed} -> container id.
   Instagram pulls the video from video_url (here a presigned GET URL of the rendition).
2. GET /{version}/{container-id}?fields=status_code,status until FINISHED; ERROR and EXPIRED are failures.
3. POST /{version}/{ig-user-id}/media_publish {creation_id} -> media id.
4. GET /{version}/{media-id}?fields=permalink -> the post URL.
Long-lived tokens are refreshed (while still valid) with GET /refresh_access_token?grant_type=ig_refresh_token;
an expired one (error 190) cannot be refreshed, so the account must be reconnected; the token refresh
schedule (`scheduled_refresh_due`) keeps quiet accounts' tokens alive.

Errors: codes 4/17/32/613 are rate limits and back off, except 4 with subcode 2207051 (the publishing is
suspected spam: retrying makes it worse) and 9/2207042 (the daily publishing limit): both final.
Containers are polled once a minute, as Meta asks; a PUBLISHED container needs no more polling.
Captions hold at most 2200 characters and 30 hashtags.
"""

from __future__ import annotations

from typing import Any

import requests

from .base import PlatformClient, PublishRequest, PublishResult, TokenSet, caption_text, json_or_empty
from .errors import AuthFailed, LimitExceeded, PlatformError, PublishError, QuotaExceeded, Restricted
from .limits import INSTAGRAM_MAX_HASHTAGS, hashtags_in

MAX_CAPTION = 2200
THROTTLE_CODES = frozenset({4, 17, 32, 613})  # app/user/page/custom rate limits
PUBLISH_LIMIT_SUBCODE = 2207042  # "reached the maximum number of posts allowed per day"
SPAM_SUBCODE = 2207051  # code 4: "we restrict certain activity to protect our community"
SCHEDULED_REFRESH_MARGIN = 7 * 86400.0
MIN_REFRESH_AGE = 86400.0  # a long-lived token can be refreshed once it is a day old
CONTAINER = "container:"
MEDIA = "media:"


def graph_error(resp: requests.Response) -> dict[str, Any]:
    err = json_or_empty(resp).get("error")
    return err if isinstance(err, dict) else {}


class InstagramClient(PlatformClient):
    platform = "instagram"
    needs_refresh_token = False
    refresh_margin_seconds = 7 * 86400.0  # long-lived tokens last 60 days; refresh in the last week

    @property
    def base(self) -> str:
        return self.settings.instagram_graph_base_url.rstrip("/")

    @property
    def api(self) -> str:
        return f"{self.base}/{self.settings.instagram_api_version}"

    def _apply_auth(self, kwargs: dict[str, Any]) -> None:
        kwargs.setdefault("params", {})["access_token"] = self.tokens.access_token

    def _is_auth_error(self, resp: requests.Response) -> bool:
        return graph_error(resp).get("code") == 190

    @property
    def poll_interval(self) -> float:
        return self.settings.instagram_poll_interval_seconds

    def scheduled_refresh_due(self, now: float, connected_at: float) -> bool:
        """Within a week of expiry, or expiry unknown (connected without expires_in) and a day old."""
        if self.tokens.expires_at is None:
            return now - connected_at >= MIN_REFRESH_AGE
        return self.tokens.expires_within(SCHEDULED_REFRESH_MARGIN, now)

    def _final_error(self, resp: requests.Response) -> PublishError | None:
        err = graph_error(resp)
        if err.get("error_subcode") == SPAM_SUBCODE:
            return Restricted("Instagram restricted this publishing as suspected spam (4/2207051); retrying "
                              "makes it worse: check the account in the Instagram app", code="spam_restricted")
        if err.get("error_subcode") == PUBLISH_LIMIT_SUBCODE:
            return QuotaExceeded("Instagram: the account reached its daily publishing limit; try tomorrow",
                                 code="daily_quota_exceeded", retryable=False)
        return None

    def _throttle_delay(self, resp: requests.Response, attempt: int) -> float | None:
        if resp.status_code == 429 or graph_error(resp).get("code") in THROTTLE_CODES:
            return self._backoff(attempt, resp)
        return None

    def _refresh(self) -> TokenSet:
        resp = self.request(
            "GET",
            f"{self.base}/refresh_access_token",
            auth=False,
            params={"grant_type": "ig_refresh_token", "access_token": self.tokens.access_token},
        )
        body = json_or_empty(resp)
        if resp.status_code != 200 or "access_token" not in body:
            raise AuthFailed("Instagram refused to refresh the access token (expired tokens cannot be "
                             "refreshed); reconnect the account")
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=None,
            expires_at=self.clock() + float(body.get("expires_in", 60 * 86400)),
            extra=self.tokens.extra,
        )

    def _check(self, resp: requests.Response, what: str) -> dict[str, Any]:
        if resp.status_code == 200:
            return json_or_empty(resp)
        err = graph_error(resp)
        raise PlatformError(f"Instagram {what} failed: {err.get('message', f'HTTP {resp.status_code}')}",
                            code=f"instagram_{err.get('code', resp.status_code)}")

    def caption(self, req: PublishRequest) -> str:
        """Title, description and as many tags as keep the caption within 30 hashtags and 2200 characters."""
        room = INSTAGRAM_MAX_HASHTAGS - len(hashtags_in(f"{req.title}\n{req.description}"))
        if room < 0:
            raise LimitExceeded(f"the title and description hold more than {INSTAGRAM_MAX_HASHTAGS} hashtags",
                                code="too_many_hashtags", param="description")
        tags = [t for t in req.tags if t.strip().lstrip("#")][:room]
        text = caption_text(PublishRequest(path=req.path, title=req.title, description=req.description, tags=tags))
        return text[:MAX_CAPTION]

    def create_container(self, ig_user_id: str, req: PublishRequest) -> str:
        if not req.video_url:
            raise PlatformError("Instagram needs a video_url to pull the Reel from", code="no_video_url")
        resp = self.request(
            "POST",
            f"{self.api}/{ig_user_id}/media",
            data={
                "media_type": "REELS",
                "video_url": req.video_url,
                "caption": self.caption(req),
                "share_to_feed": "true",
            },
        )
        return str(self._check(resp, "container creation")["id"])

    def wait_container(self, container_id: str) -> str:
        def check() -> tuple[bool, str]:
            resp = self.request("GET", f"{self.api}/{container_id}", params={"fields": "status_code,status"})
            body = self._check(resp, "container status")
            code = body.get("status_code")
            if code in {"FINISHED", "PUBLISHED"}:
                return True, code
            if code in {"ERROR", "EXPIRED"}:
                raise PlatformError(f"Instagram could not process the Reel: {code} {body.get('status', '')}"
                                    .strip(), code="platform_processing_failed")
            return False, str(code)

        return str(self.poll_until(check, "Instagram container processing"))

    def _user(self) -> str:
        ig_user_id = str(self.tokens.extra.get("ig_user_id") or "")
        if not ig_user_id:
            raise AuthFailed("Instagram account has no ig_user_id; reconnect the account")
        return ig_user_id

    def publish(self, req: PublishRequest) -> PublishResult:
        self.ensure_fresh()
        ig_user_id = self._user()
        container_id = self.create_container(ig_user_id, req)
        self.posted(CONTAINER + container_id)
        return self._finish(ig_user_id, container_id)

    def resume(self, ref: str, req: PublishRequest) -> PublishResult:
        """Poll the stored container (publishing it once FINISHED), or just read the stored media's link."""
        self.ensure_fresh()
        if ref.startswith(MEDIA):
            return self._result(ref[len(MEDIA):])
        return self._finish(self._user(), ref.removeprefix(CONTAINER))

    def _finish(self, ig_user_id: str, container_id: str) -> PublishResult:
        self.status("processing")
        if self.wait_container(container_id) == "PUBLISHED":
            # published by a run that died before storing the media id: the post exists, its id is lost
            return PublishResult(post_id=None, post_url=None)
        resp = self.request("POST", f"{self.api}/{ig_user_id}/media_publish", data={"creation_id": container_id})
        media_id = str(self._check(resp, "media_publish")["id"])
        self.posted(MEDIA + media_id)
        return self._result(media_id)

    def _result(self, media_id: str) -> PublishResult:
        resp = self.request("GET", f"{self.api}/{media_id}", params={"fields": "permalink"})
        permalink = json_or_empty(resp).get("permalink") if resp.status_code == 200 else None
        return PublishResult(post_id=media_id, post_url=permalink)
