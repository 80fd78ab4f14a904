"""A wall-clock deadline for a whole source download (both the direct and the yt-dlp path)."""

from __future__ import annotations

import time

from .errors import SourceTimeout


class Deadline:
    """Raises SourceTimeout from `check()` once `seconds` have passed since it was made."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._ends - time.monotonic()

    def check(self) -> None:
        if self.remaining() <= 0:
            raise SourceTimeout(
                f"the source did not finish downloading within {self.seconds:g} s: "
                "upload the file with POST /v1/uploads instead"
            )
