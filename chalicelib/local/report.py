"""An HTML page that shows a project's clips: player, thumbnail, score, sub-scores, reason, transcript."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Klipstar: {title}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;background:#0f1115;color:#e8e8e8}}
h1{{font-size:1.4rem}} .clips{{display:flex;flex-wrap:wrap;gap:1.5rem}}
.clip{{background:#1a1d24;border-radius:12px;padding:1rem;width:340px}}
video{{width:100%;border-radius:8px;background:#000}} .score{{font-size:2rem;font-weight:700;color:#ffcc33}}
table{{width:100%;font-size:.85rem}} td:last-child{{text-align:right}}
.reason{{font-style:italic;color:#bbb}} .tags{{color:#7fb3ff}} details{{font-size:.85rem;color:#ccc}}
img.thumb{{width:64px;border-radius:4px;float:right}}
</style></head><body>
<h1>{title}</h1><p>{subtitle}</p>
<div class="clips">{clips}</div>
</body></html>
"""

CLIP = """<div class="clip" id="{id}">
<img class="thumb" src="{thumb}" alt="thumbnail">
<div class="score">{score}</div>
<h2>{title}</h2>
<video controls preload="metadata" poster="{thumb}" src="{video}"></video>
<p>{duration:.1f} s &middot; {start:.1f}&ndash;{end:.1f} s in the source</p>
<p class="reason">{reason}</p>
<table>{subs}</table>
<p>{description}</p><p class="tags">{tags}</p>
<details><summary>Transcript</summary><p>{transcript}</p></details>
</div>"""


def write_report(clips: list[dict[str, Any]], path: Path, title: str, subtitle: str = "") -> Path:
    """Write the page; each clip dict has the API's clip fields plus local `video`/`thumbnail` paths."""
    esc = html.escape
    cards = []
    for clip in clips:
        subs = "".join(
            f"<tr><td>{esc(name.replace('_', ' '))}</td><td>{value:.0f}</td></tr>"
            for name, value in clip.get("sub_scores", {}).items()
        )
        cards.append(
            CLIP.format(
                id=esc(clip["id"]),
                thumb=esc(clip.get("thumbnail") or ""),
                score=int(clip["virality_score"]),
                title=esc(clip["title"]),
                video=esc(clip.get("video") or ""),
                duration=float(clip["duration_seconds"]),
                start=float(clip.get("start", 0.0)),
                end=float(clip.get("end", 0.0)),
                reason=esc(clip.get("reason", "")),
                subs=subs,
                description=esc(clip.get("description", "")),
                tags=esc(" ".join(clip.get("hashtags", []))),
                transcript=esc((clip.get("transcript") or {}).get("text", "")),
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(PAGE.format(title=esc(title), subtitle=esc(subtitle), clips="\n".join(cards)))
    tmp.replace(path)
    return path
