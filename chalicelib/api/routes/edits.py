"""Editable clips: PATCH a clip (trim/extend, caption fixes, style, layout, title, hashtags), add a clip by
hand, list clips in an order, and export captions and editor timelines."""

from __future__ import annotations

from chalice import Blueprint

from ...data.models import Clip, Project, Upload
from ...engine import exports
from ...engine.platforms import PLATFORMS, get_platforms, merged_safe_area
from ...engine.style import Style
from ...engine.types import Transcript, Word
from ...shapes import clip_json, project_clips
from ...webhooks import events
from .. import clip_edits
from ..errors import ApiError
from ..loaders import load_clip, load_project, new_id
from ..routing import Call, Reply, api_route
from ..schemas import CaptionsQuery, ClipCreate, ClipEdit, ClipEditOut, ClipList, ClipOrderQuery, ExportQuery

bp = Blueprint(__name__)
TAG = "clips"
RENDER_FIELDS = ("start", "end", "words", "style", "template_id", "layout")


def _word_fixes(clip: Clip, transcript: Transcript, body: ClipEdit) -> dict[str, str]:
    """The clip's caption corrections plus the body's (clip word index -> source word index)."""
    fixes = dict(clip.word_fixes or {})
    if not body.words:
        return fixes
    first, _ = transcript.word_range(float(clip.start), float(clip.end))
    count = len((clip.transcript or {}).get("words", []))
    for n, fix in enumerate(body.words):
        if fix.index >= count:
            raise ApiError(422, "invalid_field", f"words[{n}].index {fix.index} is past the clip's {count} words.",
                           param=f"words.{n}.index")
        fixes[str(first + fix.index)] = " ".join(fix.text.split())
    return fixes


@api_route(bp, "/v1/clips/{clip_id}", "PATCH", summary="Edit a clip (text at once; range, words, style: new version)",
           tag=TAG, request=ClipEdit, response=ClipEditOut, errors=(400, 404, 409, 413, 415, 422))
def edit_clip(call: Call) -> Reply:
    """Title/hashtags apply at once; start/end/words/style/layout render a new version (status rendering,
    the previous version stays downloadable, clip.updated is sent when it is done)."""
    body: ClipEdit = call.body
    given = body.model_fields_set
    if not given:
        raise ApiError(400, "empty_edit", "Give at least one field to change.")
    clip = load_clip(call.principal.tenant, call.params["clip_id"])
    project = load_project(call.principal.tenant, clip.project_id)
    snapped = None
    render = any(name in given for name in RENDER_FIELDS)
    if render:
        clip_edits.editable(project)
        if clip.status == "rendering":
            raise ApiError(409, "clip_rendering", "An edit of this clip is still rendering; wait for clip.updated.")
        transcript = clip_edits.load_transcript(project)
        start, end = float(clip.start), float(clip.end)
        if "start" in given or "end" in given:
            rng = clip_edits.resolve_range(project, transcript, body.start if body.start is not None else start,
                                           body.end if body.end is not None else end)
            start, end, snapped = rng.start, rng.end, rng.report()
        word_fixes = _word_fixes(clip, transcript, body)
        layout = clip_edits.layout_value(body.layout) if "layout" in given else clip.layout
        style = clip_edits.edit_style(call.principal.tenant, clip, project, body.template_id, body.style,
                                      f"watermark-{clip.clip_id}-v{clip_edits.next_version(clip)}")
        pending = clip_edits.pending_edit(clip, project, start=start, end=end, word_fixes=word_fixes, style=style,
                                          layout=layout)
        try:
            clip_edits.begin_edit(clip, pending)
        except BaseException:
            style.discard()
            raise
    text_actions = []
    if body.title is not None:
        text_actions.append(Clip.title.set(body.title.strip()))
    if body.hashtags is not None:
        text_actions.append(Clip.hashtags.set(["#" + h.lstrip("#") for h in body.hashtags]))
    if text_actions:
        clip.update(actions=text_actions, condition=Clip.clip_id.exists())
        if not render:
            events.enqueue(project, "clip.updated", events.clip_updated(project, clip))
    out = clip_json(clip, list(project.platforms or []))
    out.update(snapped=snapped, render=render)
    return Reply(200, out)


@api_route(bp, "/v1/projects/{project_id}/clips", "POST", status=201, summary="Add a clip over a chosen range",
           tag=TAG, request=ClipCreate, response=ClipEditOut, errors=(400, 404, 409, 413, 415, 422))
def create_clip(call: Call) -> Reply:
    """A clip the caller chose: snapped like an edit, then scored, titled and rendered like the others."""
    body: ClipCreate = call.body
    project = load_project(call.principal.tenant, call.params["project_id"])
    clip_edits.editable(project)
    transcript = clip_edits.load_transcript(project)
    rng = clip_edits.resolve_range(project, transcript, body.start, body.end)
    words = transcript.clip_words(rng.start, rng.end)
    rank = max((int(c.rank) for c in Clip.by_project.query(project.project_id)), default=-1) + 1
    clip_id = new_id("clip_", 16)
    style = clip_edits.edit_style(call.principal.tenant, None, project, body.template_id, body.style,
                                  f"watermark-{clip_id}-v1")
    clip = Clip(
        clip_id, project_id=project.project_id, tenant=project.tenant, rank=rank, title="",
        virality_score=0, start=rng.start, end=rng.end, duration_seconds=round(rng.duration, 2),
        transcript={"text": " ".join(w.text for w in words), "words": [w.to_dict() for w in words]},
        renditions={}, status="rendering", manual=True, version=0, versions=[], word_fixes={},
        source_ranges=[[rng.start, rng.end]], style=style.style, watermark_key=style.watermark_key,
        template_id=style.template_id, layout=clip_edits.layout_value(body.layout),
    )
    pending = clip_edits.pending_edit(clip, project, start=rng.start, end=rng.end, word_fixes={},
                                      style=style, layout=clip.layout)
    clip.pending = pending
    try:
        clip.save(condition=Clip.clip_id.does_not_exist())
    except BaseException:
        style.discard()
        raise
    try:
        clip_edits.start_render(clip, pending)
    except Exception:
        clip.delete()
        style.discard()
        raise
    out = clip_json(clip, list(project.platforms or []))
    out.update(snapped=rng.report(), render=True)
    return Reply(201, out)


@api_route(bp, "/v1/projects/{project_id}/clips", "GET", summary="List a project's clips (order=rank|score|timeline)",
           tag=TAG, query=ClipOrderQuery, response=ClipList, errors=(400, 404))
def list_clips(call: Call) -> Reply:
    project = load_project(call.principal.tenant, call.params["project_id"])
    query: ClipOrderQuery = call.query
    data = [clip_json(c, list(project.platforms or [])) for c in project_clips(project, query.order)]
    return Reply(200, {"object": "list", "data": data, "has_more": False})


def _clip_words(clip: Clip) -> list[Word]:
    return Transcript.from_dict({"language": "", "duration": 0, **(clip.transcript or {})}).words


@api_route(bp, "/v1/clips/{clip_id}/captions", "GET", summary="A clip's captions as SRT, WebVTT or ASS",
           tag=TAG, query=CaptionsQuery, errors=(400, 404), text=tuple(sorted(set(exports.CAPTION_FORMATS.values()))))
def clip_captions(call: Call) -> Reply:
    """The latest finished version's captions on the clip's own timeline (0 = its first frame)."""
    query: CaptionsQuery = call.query
    clip = load_clip(call.principal.tenant, call.params["clip_id"])
    project = load_project(call.principal.tenant, clip.project_id)
    names = list(project.platforms or []) or list(clip.renditions or {}) or ["youtube_shorts"]
    platform = query.platform or names[0]
    size = PLATFORMS[platform].size
    sharing = [p for p in get_platforms(names) if p.size == size] or [PLATFORMS[platform]]
    text = exports.caption_text(
        query.format, _clip_words(clip), style=Style.from_dict(clip_edits.current_style(clip, project).style),
        width=size[0], height=size[1], safe_area=merged_safe_area(sharing), title=clip.title,
    )
    return Reply(200, text, {"Content-Type": exports.CAPTION_FORMATS[query.format] + "; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{clip.clip_id}.{query.format}"'})


def export_media(project: Project) -> exports.ExportMedia:
    """The source as editors should find it: its original URL, or the uploaded file's name."""
    name = url = ""
    if project.video_url:
        url = project.video_url
        name = url.rstrip("/").rsplit("/", 1)[-1] or url
    elif project.upload_id:
        try:
            name = Upload.get(project.upload_id).filename
        except Upload.DoesNotExist:
            name = str(project.upload_key or "source").rsplit("/", 1)[-1]
        url = name
    fps = float((project.media or {}).get("fps") or exports.DEFAULT_RATE)
    return exports.ExportMedia(name=name or "source", url=url or "source", duration=float(project.source_seconds or 0),
                               fps=fps)


def export_clip(clip: Clip) -> exports.ExportClip:
    ranges = clip.source_ranges or [[clip.start, clip.end]]
    return exports.ExportClip(clip.clip_id, clip.title, float(clip.virality_score),
                              [(float(a), float(b)) for a, b in ranges], _clip_words(clip))


@api_route(bp, "/v1/projects/{project_id}/export", "GET", summary="Export the clips as an editor timeline",
           tag=TAG, query=ExportQuery, errors=(400, 404, 409),
           text=tuple(sorted({t for _, t, _ in exports.TIMELINE_FORMATS.values()})))
def export_project(call: Call) -> Reply:
    """OpenTimelineIO, FCP X XML, FCP 7 XML or CMX 3600 EDL: each clip's source ranges as edits."""
    query: ExportQuery = call.query
    project = load_project(call.principal.tenant, call.params["project_id"])
    if project.status != "completed":
        raise ApiError(409, "project_processing" if project.status == "processing" else "project_failed",
                       "The project has no finished clips to export.")
    clips = [c for c in project_clips(project) if int(c.version if c.version is not None else 1) >= 1]
    if query.clip_ids:
        wanted = [c.strip() for c in query.clip_ids.split(",") if c.strip()]
        by_id = {c.clip_id: c for c in clips}
        missing = [c for c in wanted if c not in by_id]
        if missing:
            raise ApiError(404, "resource_missing", f"No such finished clip in this project: {missing[0][:100]!r}.",
                           param="clip_ids")
        clips = [by_id[c] for c in dict.fromkeys(wanted)]
    _, content_type, ext = exports.TIMELINE_FORMATS[query.format]
    text = exports.timeline_text(query.format, project.project_id, export_media(project),
                                 [export_clip(c) for c in clips])
    return Reply(200, text, {"Content-Type": f"{content_type}; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{project.project_id}.{ext}"'})
