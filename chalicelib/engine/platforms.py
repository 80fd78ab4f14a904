"""Platform registry: output size, longest allowed clip and caption safe area per platform."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidOptions


@dataclass(frozen=True)
class SafeArea:
    """Margins (pixels of the output frame) that UI overlays cover; captions stay inside."""

    top: int
    bottom: int
    left: int
    right: int


@dataclass(frozen=True)
class Platform:
    name: str
    width: int
    height: int
    max_duration: float
    safe_area: SafeArea

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    @property
    def aspect(self) -> float:
        return self.width / self.height


# Safe areas follow the platforms' published creator guides (rounded to the 1080-wide frame):
# the right rail of like/comment/share buttons and the bottom caption/username overlay.
PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("youtube_shorts", 1080, 1920, 180.0, SafeArea(top=150, bottom=380, left=60, right=190)),
        Platform("tiktok", 1080, 1920, 600.0, SafeArea(top=150, bottom=480, left=60, right=140)),
        Platform("reels", 1080, 1920, 90.0, SafeArea(top=220, bottom=420, left=60, right=120)),
        Platform("youtube", 1920, 1080, 43200.0, SafeArea(top=60, bottom=120, left=100, right=100)),
        Platform("square", 1080, 1080, 600.0, SafeArea(top=60, bottom=120, left=60, right=60)),
        Platform("feed", 1080, 1350, 600.0, SafeArea(top=60, bottom=160, left=60, right=60)),
    )
}

DEFAULT_PLATFORMS: tuple[str, ...] = ("youtube_shorts", "tiktok", "reels")


def get_platforms(names: list[str] | tuple[str, ...]) -> list[Platform]:
    """Resolve platform names, rejecting unknown or duplicate ones."""
    if not names:
        raise InvalidOptions("platforms must name at least one platform")
    out: list[Platform] = []
    for name in names:
        if name not in PLATFORMS:
            known = ", ".join(sorted(PLATFORMS))
            raise InvalidOptions(f"unknown platform {name!r} (known: {known})")
        if PLATFORMS[name] not in out:
            out.append(PLATFORMS[name])
    return out


def group_by_size(platforms: list[Platform]) -> dict[tuple[int, int], list[Platform]]:
    """Platforms sharing an output size are rendered once; returns size -> platforms."""
    groups: dict[tuple[int, int], list[Platform]] = {}
    for p in platforms:
        groups.setdefault(p.size, []).append(p)
    return groups


def merged_safe_area(platforms: list[Platform]) -> SafeArea:
    """The area safe on every platform of a shared render (largest margin on each side)."""
    return SafeArea(
        top=max(p.safe_area.top for p in platforms),
        bottom=max(p.safe_area.bottom for p in platforms),
        left=max(p.safe_area.left for p in platforms),
        right=max(p.safe_area.right for p in platforms),
    )
