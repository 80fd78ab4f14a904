"""Publish targets and each platform's limits, checked before any upload (and by the API at request time).

A publish target is what a caller names in `POST /v1/clips/:id/publish` {platform}: the seed's platform
names `youtube_shorts`, `tiktok`, `reels` (aliases `youtube`, `instagram`). Each maps to the social
account platform that can post it and the clip rendition that is uploaded.

Limits follow the platforms' published upload specs:
- YouTube Shorts: vertical or square, at most 3 minutes (longer uploads become regular videos), <= 256 GB.
- TikTok (Content Posting API): 1-4096 px sides (>= 360), up to 10 minutes (the account's
  max_video_post_duration_sec is checked again at publish time), <= 4 GB.
- Instagram Reels (Graph API): 3 s to 15 min, <= 300 MB, at most 1920 px wide.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import LimitExceeded

GB = 1024**3
MB = 1024**2


@dataclass(frozen=True)
class PlatformLimits:
    max_bytes: int
    max_seconds: float
    min_seconds: float = 0.0
    vertical_only: bool = False  # height >= width
    min_side: int = 0
    max_width: int = 0  # 0 = no limit
    privacy: tuple[str, ...] = ("public",)


@dataclass(frozen=True)
class Target:
    name: str  # publish target (and Publication.platform)
    account_platform: str  # SocialAccount.platform able to post it
    rendition: str  # clip rendition (engine platform name) uploaded
    limits: PlatformLimits


TARGETS: dict[str, Target] = {
    "youtube_shorts": Target(
        "youtube_shorts", "youtube", "youtube_shorts",
        PlatformLimits(max_bytes=256 * GB, max_seconds=180.0, vertical_only=True,
                       privacy=("public", "unlisted", "private")),
    ),
    "tiktok": Target(
        "tiktok", "tiktok", "tiktok",
        PlatformLimits(max_bytes=4 * GB, max_seconds=600.0, min_seconds=3.0, min_side=360,
                       privacy=("public", "friends", "followers", "private")),
    ),
    "reels": Target(
        "reels", "instagram", "reels",
        PlatformLimits(max_bytes=300 * MB, max_seconds=900.0, min_seconds=3.0, max_width=1920),
    ),
}
ALIASES = {"youtube": "youtube_shorts", "shorts": "youtube_shorts", "instagram": "reels"}
ACCOUNT_ALIASES = {"youtube_shorts": "youtube", "reels": "instagram"}


def account_platform_of(name: str) -> str:
    """Canonical SocialAccount platform (youtube | tiktok | instagram) for a stored platform name."""
    return ACCOUNT_ALIASES.get(name, name)


def resolve_target(name: str) -> Target:
    """The publish target for a platform name (or alias); LimitExceeded(code=unknown_platform) otherwise."""
    key = ALIASES.get(name, name)
    if key not in TARGETS:
        raise LimitExceeded(f"cannot publish to {name!r} (choose one of {', '.join(TARGETS)})",
                            code="unknown_platform")
    return TARGETS[key]


def pick_rendition(target: Target, renditions: dict[str, Any]) -> dict[str, Any]:
    """The clip rendition to upload: the target's own, else any vertical one (renders are shared by size)."""
    if target.rendition in renditions:
        return renditions[target.rendition]
    vertical = [r for r in renditions.values() if int(r.get("height", 0)) >= int(r.get("width", 1))]
    if not vertical:
        raise LimitExceeded(f"the clip has no vertical rendition to post to {target.name}", code="no_rendition")
    return max(vertical, key=lambda r: int(r.get("height", 0)))


def check_privacy(target: Target, privacy: str) -> None:
    if privacy not in target.limits.privacy:
        raise LimitExceeded(
            f"{target.name} accepts privacy {', '.join(target.limits.privacy)}, not {privacy!r}",
            code="privacy_not_allowed",
        )


def check_clip(
    target: Target,
    *,
    duration: float,
    width: int,
    height: int,
    size_bytes: int | None = None,
) -> None:
    """Raise LimitExceeded (a 422 at request time) when the clip cannot be posted to `target`."""
    lim = target.limits
    if duration > lim.max_seconds:
        raise LimitExceeded(
            f"the clip is {duration:.1f}s; {target.name} allows at most {lim.max_seconds:.0f}s",
            code="clip_too_long",
        )
    if duration < lim.min_seconds:
        raise LimitExceeded(
            f"the clip is {duration:.1f}s; {target.name} needs at least {lim.min_seconds:.0f}s",
            code="clip_too_short",
        )
    if lim.vertical_only and width > height:
        raise LimitExceeded(f"{target.name} needs a vertical or square video, got {width}x{height}",
                            code="wrong_aspect")
    if lim.min_side and min(width, height) < lim.min_side:
        raise LimitExceeded(f"{target.name} needs sides of at least {lim.min_side}px, got {width}x{height}",
                            code="video_too_small")
    if lim.max_width and width > lim.max_width:
        raise LimitExceeded(f"{target.name} allows at most {lim.max_width}px wide, got {width}",
                            code="video_too_wide")
    if size_bytes is not None and size_bytes > lim.max_bytes:
        raise LimitExceeded(
            f"the clip is {size_bytes / MB:.1f} MB; {target.name} allows at most {lim.max_bytes / MB:.0f} MB",
            code="file_too_large",
        )


def check_publish_request(target_name: str, privacy: str, clip: Any) -> Target:
    """Request-time validation for the API: target known, privacy allowed, clip within limits.

    `clip` is a data.models.Clip (duration_seconds, renditions). Returns the resolved Target.
    """
    target = resolve_target(target_name)
    check_privacy(target, privacy)
    rendition = pick_rendition(target, dict(clip.renditions or {}))
    check_clip(target, duration=float(clip.duration_seconds), width=int(rendition.get("width", 0)),
               height=int(rendition.get("height", 0)), size_bytes=rendition.get("bytes"))
    return target
