"""/v1/projects: create (starts the pipeline), list, get, delete, prompt."""

from __future__ import annotations

from chalice import Blueprint
from pynamodb.exceptions import UpdateError

from ...data import quotas, storage
from ...data.models import Project, PromptJob, Upload, utcnow
from ...data.uploads import UNUSED_LIFETIME
from ...engine.errors import InvalidOptions
from ...engine.style import Style
from ...engine.types import ClipOptions
from ...shapes import project_out, prompt_job_out
from ..deletion import delete_project
from ..errors import ApiError
from ..executions import screen_url, start_pipeline
from ..loaders import load_owned, load_project, load_upload, new_id
from ..routing import Call, Reply, api_route
from ..schemas import (
    ClipOrderQuery,
    ListProjectsQuery,
    ProjectCreate,
    ProjectList,
    ProjectOut,
    PromptCreate,
    PromptJobOut,
)
from ..styles import resolve_request_style, store_watermark
from .uploads import finish_single_put

bp = Blueprint(__name__)
TAG = "projects"


def _check_options(body: ProjectCreate) -> None:
    if body.min_duration > body.max_duration:
        raise ApiError(422, "invalid_field", "min_duration must not exceed max_duration.", param="min_duration")
    try:
        ClipOptions(
            max_clips=body.max_clips, caption_style=body.caption_style, platforms=list(body.platforms),
            min_duration=body.min_duration, max_duration=body.max_duration, language=body.language,
            layout=body.layout,
        ).validate()
    except InvalidOptions as exc:
        param = next((p for p in ("min_duration", "max_duration", "platforms", "max_clips", "caption_style", "layout")
                      if p in exc.message), None)
        raise ApiError(422, "invalid_field", exc.message, param=param) from None


def _claim_upload(tenant: str, upload_id: str, project_id: str) -> Upload:
    """Mark the upload consumed by this project (uploads are single use)."""
    upload = load_upload(tenant, upload_id, param="upload_id")
    if upload.status == "consumed":
        raise ApiError(409, "upload_consumed", "This upload already belongs to a project.", param="upload_id")
    if upload.created_at < utcnow() - UNUSED_LIFETIME:  # the sweeper and the bucket's lifecycle rule take it
        raise ApiError(409, "upload_expired", "This upload is too old to use; upload the file again.",
                       param="upload_id")
    if upload.status == "pending" and (upload.multipart_upload_id is not None or not finish_single_put(upload)):
        raise ApiError(409, "upload_incomplete", "The upload has not been completed yet.", param="upload_id")
    try:
        upload.update(
            actions=[Upload.status.set("consumed"), Upload.project_id.set(project_id), Upload.expires_at.remove()],
            condition=Upload.status == "uploaded",
        )
    except UpdateError:
        raise ApiError(409, "upload_consumed", "This upload already belongs to a project.", param="upload_id") from None
    return upload


def _unclaim_upload(upload: Upload) -> None:
    """Undo _claim_upload when the project could not be created."""
    upload.update(actions=[Upload.status.set("uploaded"), Upload.project_id.remove()])


@api_route(bp, "/v1/projects", "POST", status=201, summary="Submit a video for clipping", tag=TAG,
           request=ProjectCreate, response=ProjectOut, errors=(400, 404, 409, 413, 415, 422))
def create_project(call: Call) -> Reply:
    """Create a project and start its pipeline execution (takes one concurrent-project slot)."""
    body: ProjectCreate = call.body
    principal = call.principal
    if (body.video_url is None) == (body.upload_id is None):
        raise ApiError(400, "invalid_field", "Give exactly one of video_url and upload_id.", param="video_url")
    _check_options(body)
    style = resolve_request_style(
        principal.tenant, body.template_id, body.style, body.caption_style,
        explicit_preset=body.caption_style if "caption_style" in body.model_fields_set else None,
    )
    if body.video_url is not None:
        screen_url(body.video_url, "video_url")
    if body.webhook_url is not None:
        screen_url(body.webhook_url, "webhook_url")
    project_id = new_id("proj_")
    watermark_key = store_watermark(principal.tenant, project_id, style, "watermark")
    try:
        return _create(body, call, project_id, style, watermark_key)
    except BaseException:
        if watermark_key:
            storage.delete_prefix(watermark_key)  # no project: its checked watermark goes too
        raise


def _create(body: ProjectCreate, call: Call, project_id: str, style: Style, watermark_key: str | None) -> Reply:
    """The rest of create_project once the style is resolved (claims, slot, row, execution)."""
    principal = call.principal
    upload = _claim_upload(principal.tenant, body.upload_id, project_id) if body.upload_id else None
    try:
        quotas.acquire_project_slot(principal.account_id, principal.plan)
    except quotas.ConcurrencyLimited as exc:
        if upload is not None:
            _unclaim_upload(upload)
        raise ApiError(429, "concurrency_limited", str(exc),
                       headers={"Retry-After": str(quotas.CONCURRENCY_RETRY_SECONDS)}) from None
    now = utcnow()
    project = Project(
        project_id, tenant=principal.tenant, account_id=principal.account_id, status="processing",
        stage="queued", progress=0, created_at=now, updated_at=now, video_url=body.video_url,
        upload_id=body.upload_id, upload_key=upload.key if upload else None, max_clips=body.max_clips,
        caption_style=style.preset, layout=body.layout, platforms=list(body.platforms),
        min_duration=body.min_duration,
        max_duration=body.max_duration, language=body.language, webhook_url=body.webhook_url,
        metadata=dict(body.metadata), slot_released=False, template_id=body.template_id, style=style.to_dict(),
        watermark_key=watermark_key,
    )
    try:
        project.save(condition=Project.project_id.does_not_exist())
    except Exception:
        quotas.release_unclaimed_slot(principal.account_id)
        raise
    try:
        arn = start_pipeline(project_id, {"project_id": project_id, "tenant": principal.tenant})
    except Exception:
        quotas.release_project_slot(project)
        project.delete()
        if upload is not None:
            _unclaim_upload(upload)
        raise
    project.update(actions=[Project.execution_arn.set(arn)])
    return Reply(201, project_out(project, with_clips=False))


@api_route(bp, "/v1/projects", "GET", summary="List projects, newest first", tag=TAG,
           query=ListProjectsQuery, response=ProjectList, errors=(400, 404))
def list_projects(call: Call) -> Reply:
    """Cursor pagination over the by-tenant index (no scan); `status` filters."""
    query: ListProjectsQuery = call.query
    tenant = call.principal.tenant
    last_key = None
    if query.starting_after:
        # a well-formed id that is not one of the caller's projects: 404 naming the parameter (the
        # document's pattern admits it, so it is not a malformed request)
        cursor = load_project(tenant, query.starting_after, param="starting_after")
        last_key = {
            "project_id": {"S": cursor.project_id},
            "tenant": {"S": tenant},
            "created_at": {"S": Project.created_at.serialize(cursor.created_at)},
        }
    condition = (Project.status == query.status) if query.status else None
    rows: list[Project] = []
    for project in Project.by_tenant.query(tenant, scan_index_forward=False, filter_condition=condition,
                                           last_evaluated_key=last_key, page_size=max(query.limit + 1, 25)):
        rows.append(project)
        if len(rows) > query.limit:
            break
    data = [project_out(p, with_clips=False) for p in rows[: query.limit]]
    return Reply(200, {"object": "list", "data": data, "has_more": len(rows) > query.limit})


@api_route(bp, "/v1/projects/{project_id}", "GET", summary="Get a project (with its clips once completed)",
           tag=TAG, query=ClipOrderQuery, response=ProjectOut, errors=(400, 404))
def get_project(call: Call) -> Reply:
    """`order` sorts the clips: rank (default), score (highest first) or timeline (by start)."""
    project = load_project(call.principal.tenant, call.params["project_id"])
    return Reply(200, project_out(project, order=call.query.order))


@api_route(bp, "/v1/projects/{project_id}", "DELETE", status=204, summary="Delete a project and everything in it",
           tag=TAG, errors=(404,))
def remove_project(call: Call) -> Reply:
    """Stops a running execution, deletes rows and stored objects, frees the concurrency slot."""
    project = load_project(call.principal.tenant, call.params["project_id"])
    delete_project(project)
    return Reply(204)


@api_route(bp, "/v1/projects/{project_id}/prompt", "POST", status=202, summary="Find moments matching a prompt",
           tag=TAG, request=PromptCreate, response=PromptJobOut, errors=(400, 404, 409, 413, 415, 422))
def create_prompt_job(call: Call) -> Reply:
    """Start a prompt job on a completed project (409 while it is still processing or if it failed)."""
    body: PromptCreate = call.body
    project = load_project(call.principal.tenant, call.params["project_id"])
    if project.status == "processing":
        raise ApiError(409, "project_processing", "The project is still processing; prompt it once completed.")
    if project.status != "completed":
        raise ApiError(409, "project_failed", "The project failed; there is nothing to search.")
    if not project.source_key:  # dropped after KLIPSTAR_SOURCE_RETENTION_DAYS: nothing to render from
        raise ApiError(409, "source_expired", "The project's source media is no longer kept.")
    job_id = new_id("pj_")
    style, template_id, watermark_key = _prompt_style(project, body, job_id)
    job = PromptJob(job_id, project_id=project.project_id, tenant=project.tenant,
                    prompt=body.prompt.strip(), max_clips=body.max_clips, status="processing",
                    template_id=template_id, style=style.to_dict(), watermark_key=watermark_key)
    job.save(condition=PromptJob.job_id.does_not_exist())
    try:
        arn = start_pipeline(job.job_id, {"project_id": project.project_id, "tenant": project.tenant,
                                          "prompt_job_id": job.job_id})
    except Exception:
        job.delete()
        raise
    job.update(actions=[PromptJob.execution_arn.set(arn)])
    return Reply(202, prompt_job_out(job))


def _prompt_style(project: Project, body: PromptCreate, job_id: str) -> tuple[Style, str | None, str | None]:
    """The job's style: the project's, under the given template and inline style; its watermark key."""
    if body.template_id is None and body.style is None:
        return resolve_request_style(project.tenant, None, None, project.caption_style,
                                     base=project.style), project.template_id, \
            project.watermark_key
    style = resolve_request_style(project.tenant, body.template_id, body.style, project.caption_style,
                                  base=project.style)
    base_watermark = (project.style or {}).get("watermark")
    if style.watermark is not None and style.watermark.model_dump(mode="json") == base_watermark:
        return style, body.template_id, project.watermark_key  # the project's image, already checked
    return style, body.template_id, store_watermark(project.tenant, project.project_id, style, f"watermark-{job_id}")


@api_route(bp, "/v1/prompt-jobs/{job_id}", "GET", summary="Get a prompt job (status, clip ids, reason)",
           tag=TAG, response=PromptJobOut, errors=(404,))
def get_prompt_job(call: Call) -> Reply:
    """Poll a prompt job; its clips are readable through GET /v1/clips/{id} and under the project."""
    job = load_owned(PromptJob, "prompt job", call.principal.tenant, call.params["job_id"])
    return Reply(200, prompt_job_out(job))
