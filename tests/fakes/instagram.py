"""Fake Instagram Graph API (Instagram Login host) for Reels: containers, status polling, media_publish.

On container creation the fake pulls video_url over HTTP (like Instagram does) in a background thread,
then decodes it; status_code goes IN_PROGRESS -> FINISHED (or ERROR when the download or decode fails,
or when told to fail). media_publish only accepts a FINISHED container, once. Errors use the Graph API
shape {"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}: 190 for invalid/expired
tokens, 4 for the app rate limit, 4/2207051 for a spam restriction, 9/2207042 for the daily publishing
limit. Captions hold at most 2200 characters and 30 hashtags. A published container reads PUBLISHED.
"""

from __future__ import annotations

import itertools
import re
import threading
from dataclasses import dataclass
from typing import Any

import requests

from .base import FakeServer, Reply, Request, TokenBook, probe_bytes

HASHTAG = re.compile(r"(?<![\w&#])#\w+")


def graph_error(status: int, code: int, message: str, subcode: int | None = None) -> Reply:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "fake"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return Reply(status, {"error": err})


@dataclass
class Container:
    id: str
    ig_user_id: str
    fields: dict[str, str]
    status_code: str = "IN_PROGRESS"
    status: str = "In Progress"
    data: bytes = b""
    polls: int = 0
    fetched: bool = False
    media_id: str | None = None


class FakeInstagram(FakeServer):
    def __init__(
        self,
        *,
        ig_user_id: str = "17841400000000001",
        version: str = "v21.0",
        tokens: TokenBook | None = None,
        rate_limit_create: int = 0,  # answer this many container creations with error code 4
        processing_polls: int = 1,
        fail_processing: bool = False,
        expire_containers: bool = False,
        spam_restricted: bool = False,  # container creation answers 4/2207051
        daily_limit_reached: bool = False,  # media_publish answers 9/2207042
    ) -> None:
        super().__init__()
        self.spam_restricted = spam_restricted
        self.daily_limit_reached = daily_limit_reached
        self.spam_refusals = 0
        self.ig_user_id = ig_user_id
        self.version = version
        self.tokens = tokens or TokenBook(access_token="IGAA-1", refresh_token="unused")
        self.rate_limit_create = rate_limit_create
        self.processing_polls = processing_polls
        self.fail_processing = fail_processing
        self.expire_containers = expire_containers
        self.containers: dict[str, Container] = {}
        self.media: dict[str, Container] = {}
        self.limited = 0
        self.refreshed_from: list[str] = []
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []

    def _params(self, req: Request) -> dict[str, str]:
        params = dict(req.query)
        if req.method == "POST" and req.body:
            params.update(req.form())
        return params

    def handle(self, req: Request) -> Reply | None:
        params = self._params(req)
        if req.method == "GET" and req.path == "/refresh_access_token":
            return self.refresh(params)
        prefix = f"/{self.version}/"
        if not req.path.startswith(prefix):
            return graph_error(400, 100, "Unknown path components")
        with self.lock:
            if not self.tokens.authorize(params.get("access_token")):
                return graph_error(400, 190, "Error validating access token: Session has expired", 463)
        node, _, edge = req.path[len(prefix):].partition("/")
        if req.method == "POST" and node == self.ig_user_id and edge == "media":
            return self.create(params)
        if req.method == "POST" and node == self.ig_user_id and edge == "media_publish":
            return self.publish(params)
        if req.method == "GET" and not edge:
            return self.read(node, params)
        return graph_error(400, 100, "Unsupported request")

    def refresh(self, params: dict[str, str]) -> Reply:
        token = params.get("access_token")
        with self.lock:
            if params.get("grant_type") != "ig_refresh_token" or token not in self.tokens.valid:
                return graph_error(400, 190, "Error validating access token")
            self.refreshed_from.append(token)
            self.tokens.refreshes += 1
            new = f"IGAA-{self.tokens.refreshes + 1}"
            self.tokens.valid.add(new)
            self.tokens.access_token = new
        return Reply(200, {"access_token": new, "token_type": "bearer", "expires_in": 5183944})

    def create(self, params: dict[str, str]) -> Reply:
        with self.lock:
            if self.limited < self.rate_limit_create:
                self.limited += 1
                return graph_error(403, 4, "Application request limit reached")
        if params.get("media_type") != "REELS":
            return graph_error(400, 100, "media_type must be REELS")
        if not params.get("video_url", "").startswith(("http://", "https://")):
            return graph_error(400, 100, "video_url is required")
        if self.spam_restricted:
            self.spam_refusals += 1
            return graph_error(400, 4, "We restrict certain activity to protect our community.", 2207051)
        if len(params.get("caption", "")) > 2200:
            return graph_error(400, 100, "caption too long")
        if len(HASHTAG.findall(params.get("caption", ""))) > 30:
            return graph_error(400, 100, "The caption has more than 30 hashtags.")
        with self.lock:
            cid = f"1790000000000{next(self._ids)}"
            box = Container(cid, self.ig_user_id, params)
            self.containers[cid] = box
        thread = threading.Thread(target=self._pull, args=(box,), daemon=True)
        self._threads.append(thread)
        thread.start()
        return Reply(200, {"id": cid})

    def _pull(self, box: Container) -> None:
        try:
            resp = requests.get(box.fields["video_url"], timeout=30)
            data = resp.content if resp.status_code == 200 else b""
        except requests.RequestException:
            data = b""
        with self.lock:
            box.data = data
            box.fetched = True

    def read(self, node: str, params: dict[str, str]) -> Reply:
        fields = params.get("fields", "id").split(",")
        with self.lock:
            box = self.containers.get(node)
            if box is not None:
                if box.fetched and box.status_code == "IN_PROGRESS":
                    box.polls += 1
                    if box.polls > self.processing_polls:
                        if self.expire_containers:
                            box.status_code, box.status = "EXPIRED", "Expired"
                        elif self.fail_processing or probe_bytes(box.data) is None:
                            box.status_code, box.status = "ERROR", "Error: 2207026 unsupported video format"
                        else:
                            box.status_code, box.status = "FINISHED", "Finished"
                out = {"id": box.id, "status_code": box.status_code, "status": box.status}
                return Reply(200, {k: v for k, v in out.items() if k in fields or k == "id"})
            media = self.media.get(node)
            if media is not None:
                out = {"id": node, "permalink": f"https://www.instagram.com/reel/FAKE{node[-6:]}/",
                       "media_product_type": "REELS"}
                return Reply(200, {k: v for k, v in out.items() if k in fields or k == "id"})
        return graph_error(400, 100, f"Object with ID '{node}' does not exist")

    def publish(self, params: dict[str, str]) -> Reply:
        with self.lock:
            if self.daily_limit_reached:
                return graph_error(400, 9, "You reached maximum number of posts that is allowed to be "
                                           "published by Content Publishing API.", 2207042)
            box = self.containers.get(params.get("creation_id", ""))
            if box is None or box.status_code != "FINISHED":
                return graph_error(400, 9007, "Media ID is not available", 2207027)
            mid = f"1800000000000{next(self._ids)}"
            box.status_code, box.media_id = "PUBLISHED", mid
            self.media[mid] = box
        return Reply(200, {"id": mid})

    def received(self, media_id: str) -> bytes:
        return self.media[media_id].data
