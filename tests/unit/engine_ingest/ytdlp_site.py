"""A tiny yt-dlp extractor standing in for a video site in tests (offline, loopback only).

`http://<host>/klipstar-test/<id>` is a "video page": a JSON document `{"formats": [...]}` that the
extractor downloads through yt-dlp's own networking and returns as the video's formats, the way real
extractors turn a page into media URLs.
"""

from __future__ import annotations

from typing import Any

from yt_dlp.extractor.common import InfoExtractor

NAME = "klipstartest"


class KlipstarTestIE(InfoExtractor):
    IE_NAME = NAME
    _VALID_URL = r"https?://[^/]+/klipstar-test/(?P<id>[A-Za-z0-9_-]+)"

    def _real_extract(self, url: str) -> dict[str, Any]:
        video_id = self._match_id(url)
        page = self._download_json(url, video_id)
        return {"id": video_id, "title": video_id, "formats": page["formats"]}


def mp4_format(url: str, **extra: Any) -> dict[str, Any]:
    return {"format_id": "360p", "url": url, "ext": "mp4", "vcodec": "avc1", "acodec": "mp4a", "height": 360, **extra}
