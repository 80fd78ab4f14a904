"""Publish targets and each platform's limits, checked before any upload (and by the API at request time).

A publish target is what a caller names in `POST /v1/clips/:id/publish` {platform}: the seed's platform
names `youtube_shorts`, `tiktok`, `reels` (aliases `youtube`, `instagram`). Each maps to the social
account platform that can post it and the clip rendition that is uploaded.

Limits follow the platforms' published upload specs:
- YouTube Shorts: vertical or square, at most 3 minutes (longer uploads become regular videos), <= 256 GB.
- TikTok (Content Posting API): 1-4096 px sides (>= 360), up to 10 minutes (the account's
  max_video_post_duration_sec is checked again at publish time), <= 4 GB.
- Instagram Reels (Graph API): 3 s to 15 min, <= 300 MB, at most 1920 px wide.

Field rules (`check_fields`, a 422 naming the field at request time; the clients fit generated text):
- YouTube: description at most 5000 UTF-8 bytes (with the "#Shorts" we add) and no `<` or `>`; tags at
  most 500 characters in total, counting a comma between tags and quotes around a tag with a space.
- Instagram: at most 30 hashtags in the caption (title, description and tags together).
- App status: an unverified Google project's uploads are private, an unaudited TikTok app may only post
  SELF_ONLY, so anything but `private` is refused until KLIPSTAR_YOUTUBE_APP_VERIFIED /
  KLIPSTAR_TIKTOK_APP_AUDITED say otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..settings import Settings
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


# --- field rules -----------------------------------------------------------------------------------------

YOUTUBE_DESCRIPTION_BYTES = 5000
YOUTUBE_TAGS_CHARS = 500
SHORTS_TAG = "#Shorts"
INSTAGRAM_MAX_HASHTAGS = 30
_HASHTAG = re.compile(r"(?<![\w&#])#\w+")


def shorts_description(description: str) -> str:
    """The description as posted to YouTube: "#Shorts" appended unless already there."""
    if SHORTS_TAG.lower() in description.lower():
        return description
    return (description.rstrip() + "\n\n" + SHORTS_TAG).strip()


def youtube_tag(tag: str) -> str:
    return tag.strip().lstrip("#").strip()


def youtube_tags_length(tags: Sequence[str]) -> int:
    """Length of `tags` as YouTube counts it: commas between tags, quotes around tags with a space."""
    names = [n for n in map(youtube_tag, tags) if n]
    return sum(len(n) + (2 if " " in n else 0) for n in names) + max(0, len(names) - 1)


def fit_youtube_tags(tags: Sequence[str]) -> list[str]:
    """The leading tags (deduplicated, `#` dropped) that fit YouTube's 500-character total."""
    kept: list[str] = []
    for name in dict.fromkeys(n for n in map(youtube_tag, tags) if n):
        if youtube_tags_length([*kept, name]) <= YOUTUBE_TAGS_CHARS:
            kept.append(name)
    return kept


def hashtags_in(text: str) -> list[str]:
    """The #hashtags Instagram would count in `text`."""
    return _HASHTAG.findall(text)


def _app_status_privacy(target: Target, privacy: str, settings: Settings) -> None:
    if target.account_platform == "youtube" and not settings.youtube_app_verified and privacy != "private":
        raise LimitExceeded(
            "this server's Google project is not verified for the YouTube Data API, so YouTube locks its uploads "
            "to private; publish with privacy \"private\" (or complete the audit and set "
            "KLIPSTAR_YOUTUBE_APP_VERIFIED=true)", code="privacy_not_allowed", param="privacy")
    if target.account_platform == "tiktok" and not settings.tiktok_app_audited and privacy != "private":
        raise LimitExceeded(
            "this server's TikTok app is not audited, so TikTok only accepts SELF_ONLY posts to private "
            "accounts; publish with privacy \"private\" (or pass the audit and set KLIPSTAR_TIKTOK_APP_AUDITED=true)",
            code="privacy_not_allowed", param="privacy")


def check_fields(
    target: Target,
    *,
    title: str,
    description: str,
    tags: Sequence[str] | None,
    privacy: str,
    settings: Settings,
) -> None:
    """Raise LimitExceeded naming the field (`param`) when the platform would refuse the post's text/privacy.

    `tags` is None when the caller gave none (the clip's generated hashtags are then fitted client-side).
    """
    _app_status_privacy(target, privacy, settings)
    if target.account_platform == "youtube":
        if "<" in description or ">" in description:
            raise LimitExceeded("YouTube refuses descriptions containing < or >", code="invalid_description",
                                param="description")
        size = len(shorts_description(description).encode())
        if size > YOUTUBE_DESCRIPTION_BYTES:
            raise LimitExceeded(f"the description is {size} bytes in UTF-8 (with \"#Shorts\"); YouTube allows "
                                f"{YOUTUBE_DESCRIPTION_BYTES}", code="description_too_long", param="description")
        if tags is not None and youtube_tags_length(tags) > YOUTUBE_TAGS_CHARS:
            raise LimitExceeded(f"the tags make {youtube_tags_length(tags)} characters (commas and quotes "
                                f"counted); YouTube allows {YOUTUBE_TAGS_CHARS} in total", code="tags_too_long",
                                param="tags")
    if target.account_platform == "instagram":
        in_text = len(hashtags_in(f"{title}\n{description}"))
        if in_text > INSTAGRAM_MAX_HASHTAGS:
            raise LimitExceeded(f"the title and description hold {in_text} hashtags; Instagram allows "
                                f"{INSTAGRAM_MAX_HASHTAGS}", code="too_many_hashtags", param="description")
        if tags is not None and in_text + len(tags) > INSTAGRAM_MAX_HASHTAGS:
            raise LimitExceeded(f"the caption would hold {in_text + len(tags)} hashtags; Instagram allows "
                                f"{INSTAGRAM_MAX_HASHTAGS}", code="too_many_hashtags", param="tags")
