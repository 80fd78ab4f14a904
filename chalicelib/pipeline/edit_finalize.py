"""EditFinalize (render-only branch, last step): the rendered edit becomes the clip's latest version;
older versions are kept (up to KLIPSTAR_CLIP_VERSIONS_KEPT) and clip.updated is sent."""

from __future__ import annotations

from typing import Any

from ..data import storage
from ..data.models import Clip
from ..engine.types import Transcript
from ..settings import get_settings
from ..webhooks import events
from .common import (
    State,
    StepContext,
    carry,
    ensure_still_there,
    load_clip,
    load_project,
    pending_of,
    render_style,
    step,
)
from .finalize import clip_rows, version_record

SCORE_FIELDS = ("title", "description", "hashtags", "virality_score", "sub_scores", "reason")


def prune(versions: list[dict[str, Any]], keep: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The newest `keep` versions (all when keep <= 0) and the object keys of the ones dropped."""
    if keep <= 0 or len(versions) <= keep:
        return versions, []
    dropped = versions[:-keep]
    keys = [r["key"] for v in dropped for r in (v.get("renditions") or {}).values()]
    keys += [v["thumbnail_key"] for v in dropped if v.get("thumbnail_key")]
    return versions[-keep:], sorted(set(keys))


def set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None else attribute.set(value)


@step("edit_finalize")
def handler(ctx: StepContext) -> State:
    """State + scored_key, rendered -> {project_id, tenant, edit_clip_id, edit_version}."""
    project = load_project(ctx.project_id)
    version = int(ctx.state["edit_version"])
    clip = load_clip(str(ctx.state["edit_clip_id"]))
    pending = pending_of(clip, version)
    scored = storage.get_json(ctx.state["scored_key"])
    transcript = Transcript.from_dict(storage.get_json(ctx.state["transcript_key"])).with_fixes(
        scored[0].get("word_fixes")
    )
    style = render_style(project, ctx.state, scored[0])[0]  # tightening: cut-timeline duration, words, ranges
    new = clip_rows(ctx, scored, ctx.state.get("rendered", []), transcript, style=style)[0]
    versions, dropped = prune([*(clip.versions or []), version_record(version, new)],
                              get_settings().clip_versions_kept)
    actions = [
        Clip.start.set(new.start), Clip.end.set(new.end), Clip.duration_seconds.set(new.duration_seconds),
        Clip.transcript.set(new.transcript), Clip.renditions.set(new.renditions),
        Clip.layout_keyframes.set(new.layout_keyframes),
        Clip.source_ranges.set(new.source_ranges), Clip.word_fixes.set(pending.get("word_fixes") or {}),
        set_or_remove(Clip.style, pending.get("style")), set_or_remove(Clip.layout, pending.get("layout")),
        set_or_remove(Clip.watermark_key, pending.get("watermark_key")),
        set_or_remove(Clip.template_id, pending.get("template_id")),
        Clip.version.set(version), Clip.versions.set(versions), Clip.status.set("ready"),
        Clip.pending.remove(), Clip.edit_error.remove(),
    ]
    if new.thumbnail_key:
        actions.append(Clip.thumbnail_key.set(new.thumbnail_key))
    if clip.manual and int(clip.version or 0) == 0:  # a manual clip's first render: its score and title
        actions += [getattr(Clip, name).set(getattr(new, name)) for name in SCORE_FIELDS]
    clip.update(actions=actions, condition=Clip.status == "rendering")
    ensure_still_there(ctx)
    for key in dropped:
        storage.s3_client().delete_object(Bucket=storage.bucket(), Key=key)
    events.enqueue(project, "clip.updated", events.clip_updated(project, clip))
    return carry(ctx.state, clip_id=clip.clip_id, version=version)
