"""Instagram Graph API client: Reels through a media container.

Protocol (developers.facebook.com/docs/instagram-platform/content-publishing, IG Container reference):
1. POST /{version}/{ig-user-id}/media {media_type: REELS, video_url, caption, share_to_feed} -> container id.
   Instagram pulls the video from video_url (here a presigned GET URL of the rendition).
2. GET /{version}/{container-id}?fields=status_code,status until FINISHED; ERROR and EXPIRED are failures.
3. POST /{version}/{ig-user-id}/media_publish {creation_id} -> media id.
4. GET /{version}/{media-id}?fields=permalink -> the post URL.
Long-lived tokens are refreshed (while still valid) with GET /refresh_access_token?grant_type=ig_refresh_token;
an expired one (error 190) cannot be refreshed, so the account must be reconnected.
"""

from __future__ import annotations

from typing import Any

import requests

from .base import PlatformClient, PublishRequest, PublishResult, TokenSet, caption_text, json_or_empty
from .errors import AuthFailed, PlatformError, QuotaExceeded

MAX_CAPTION = 2200
THROTTLE_CODES = frozenset({4, 17, 32, 613})  # app/user/page/custom rate limits
PUBLISH_LIMIT_SUBCODE = 2207042  # "reached the maximum number of posts allowed per day"


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
        if err.get("error_subcode") == PUBLISH_LIMIT_SUBCODE:
            raise QuotaExceeded("Instagram: the account reached its daily publishing limit")
        raise PlatformError(f"Instagram {what} failed: {err.get('message', f'HTTP {resp.status_code}')}",
                            code=f"instagram_{err.get('code', resp.status_code)}")

    def caption(self, req: PublishRequest) -> str:
        return caption_text(req)[:MAX_CAPTION]

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

    def wait_container(self, container_id: str) -> None:
        def check() -> tuple[bool, str]:
            resp = self.request("GET", f"{self.api}/{container_id}", params={"fields": "status_code,status"})
            body = self._check(resp, "container status")
            code = body.get("status_code")
            if code == "FINISHED":
                return True, code
            if code in {"ERROR", "EXPIRED"}:
                raise PlatformError(f"Instagram could not process the Reel: {code} {body.get('status', '')}"
                                    .strip(), code="platform_processing_failed")
            return False, str(code)

        self.poll_until(check, "Instagram container processing")

    def publish(self, req: PublishRequest) -> PublishResult:
        self.ensure_fresh()
        ig_user_id = str(self.tokens.extra.get("ig_user_id") or "")
        if not ig_user_id:
            raise AuthFailed("Instagram account has no ig_user_id; reconnect the account")
        container_id = self.create_container(ig_user_id, req)
        self.status("processing")
        self.wait_container(container_id)
        resp = self.request("POST", f"{self.api}/{ig_user_id}/media_publish", data={"creation_id": container_id})
        media_id = str(self._check(resp, "media_publish")["id"])
        resp = self.request("GET", f"{self.api}/{media_id}", params={"fields": "permalink"})
        permalink = json_or_empty(resp).get("permalink") if resp.status_code == 200 else None
        return PublishResult(post_id=media_id, post_url=permalink)
