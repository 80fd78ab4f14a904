"""What every pipeline handler shares: observability, the project row, scratch space, cleanup.

Handlers are thin: state in (ids and object keys only) -> one engine stage -> storage/db -> state out.
`step()` wraps each one with powertools Logger (correlation ids: project id, execution id), Tracer
(a no-op outside Lambda or with POWERTOOLS_TRACE_DISABLED) and EMF Metrics (a per-invocation
EphemeralMetrics, so concurrent Map iterations in local mode never share a buffer).
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pynamodb.exceptions import DoesNotExist, UpdateError

from ..data import storage
from ..data.aws import stepfunctions_client
from ..data.models import IN_FLIGHT, Clip, Project, PromptJob, utcnow
from ..engine.errors import TransientError
from ..engine.style import Style, resolve_style
from ..observability import get_logger
from ..settings import get_settings

SERVICE = "klipstar-pipeline"
DEFAULT_METRICS_NAMESPACE = "Klipstar"

logger = get_logger(SERVICE)
tracer = Tracer(service=SERVICE)

State = dict[str, Any]


class ProjectGone(Exception):
    """The project was deleted while the pipeline ran: stop, and leave nothing behind."""

    code = "project_deleted"


@dataclass
class StepContext:
    """Per-invocation helpers handed to a step body."""

    step: str
    state: State
    metrics: EphemeralMetrics
    execution_id: str = ""
    written_keys: list[str] = field(default_factory=list)

    @property
    def project_id(self) -> str:
        return str(self.state["project_id"])

    @property
    def tenant(self) -> str:
        return str(self.state["tenant"])

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> str:
        """Upload and remember the key, so a deletion mid-run can take it back."""
        self.written_keys.append(key)
        storage.put_file(key, path, content_type)
        return key

    def put_json(self, key: str, data: Any) -> str:
        self.written_keys.append(key)
        storage.put_json(key, data)
        return key


def load_project(project_id: str) -> Project:
    """The project row, or ProjectGone."""
    try:
        return Project.get(project_id, consistent_read=True)
    except DoesNotExist:
        raise ProjectGone(f"project {project_id} no longer exists") from None


def load_prompt_job(job_id: str) -> PromptJob:
    """The prompt job row, or ProjectGone (deleted with its project)."""
    try:
        return PromptJob.get(job_id, consistent_read=True)
    except DoesNotExist:
        raise ProjectGone(f"prompt job {job_id} no longer exists") from None


def load_clip(clip_id: str) -> Clip:
    """The clip row, or ProjectGone (deleted with its project)."""
    try:
        return Clip.get(clip_id, consistent_read=True)
    except Clip.DoesNotExist:
        raise ProjectGone(f"clip {clip_id} no longer exists") from None


def pending_of(clip: Clip, version: int) -> dict[str, Any]:
    """The edit this execution renders (ProjectGone if the clip no longer waits for it)."""
    pending = clip.pending or {}
    if clip.status != "rendering" or int(pending.get("version", -1)) != version:
        raise ProjectGone(f"clip {clip.clip_id} no longer waits for version {version}")
    return pending
def render_style(project: Project, state: State, entry: dict[str, Any] | None = None) -> tuple[Style, str | None]:
    """(the Style this render uses, its watermark's object key): an edit entry's own (its `version` and
    `style` set), else the prompt job's, else the project's (rows from before styles existed: their caption_style as the
    preset)."""
    if entry is not None and entry.get("version") is not None and entry.get("style"):
        preset = entry.get("caption_style") or project.caption_style
        return resolve_style(entry["style"], None, preset), entry.get("watermark_key")
    row: Project | PromptJob = project
    if state.get("prompt_job_id"):
        row = load_prompt_job(str(state["prompt_job_id"]))
    return resolve_style(row.style or project.style, None, project.caption_style), row.watermark_key


def update_project(project_id: str, **values: Any) -> Project:
    """Set attributes on the project only if it still exists (never re-creates a deleted row).

    Returns the updated row (UpdateItem answers with every attribute, so no re-read is needed)."""
    values.setdefault("updated_at", utcnow())
    actions = [getattr(Project, name).set(value) for name, value in values.items()]
    if "status" in values:  # the sparse in-flight index holds processing projects only
        actions.append(Project.in_flight.set(IN_FLIGHT) if values["status"] == IN_FLIGHT
                       else Project.in_flight.remove())
    probe = Project(project_id)
    try:
        probe.update(actions=actions, condition=Project.project_id.exists())
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code or exc):
            raise ProjectGone(f"project {project_id} no longer exists") from None
        raise
    return probe


def set_stage(project_id: str, stage: str, progress: int) -> None:
    update_project(project_id, stage=stage, progress=progress)


def execution_status(execution_arn: str) -> str | None:
    """The execution's status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED...), None if it does not exist."""
    client = stepfunctions_client()
    try:
        return str(client.describe_execution(executionArn=execution_arn)["status"])
    except client.exceptions.ExecutionDoesNotExist:
        return None


def execution_stopped(execution_id: str) -> bool:
    """True if the execution was stopped (DELETE stops it before removing rows and objects)."""
    return bool(execution_id) and execution_status(execution_id) in (None, "ABORTED")


def ensure_still_there(ctx: StepContext) -> None:
    """Call after writing: if the project vanished (or its execution was stopped for a DELETE)
    meanwhile, delete what this step wrote and stop."""
    try:
        Project.get(ctx.project_id, consistent_read=True)
    except DoesNotExist:
        take_back(ctx)
        raise ProjectGone(f"project {ctx.project_id} was deleted during {ctx.step}") from None
    if execution_stopped(ctx.execution_id):
        take_back(ctx)
        raise ProjectGone(f"the execution of {ctx.project_id} was stopped during {ctx.step}")


def take_back(ctx: StepContext) -> None:
    """Delete every object this step wrote plus anything left under the project's prefix."""
    for key in ctx.written_keys:
        storage.s3_client().delete_object(Bucket=storage.bucket(), Key=key)
    storage.delete_prefix(storage.project_prefix(ctx.tenant, ctx.project_id))


@contextmanager
def workspace(step: str) -> Iterator[Path]:
    """A scratch directory removed afterwards (Lambda's /tmp is shared between warm invocations)."""
    root = get_settings().work_dir or None
    path = Path(tempfile.mkdtemp(prefix=f"klipstar-{step}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "SlowDown", "RequestTimeout", "RequestTimeoutException",
    "InternalError", "InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
    "TransactionConflictException", "LimitExceededException",
})  # fmt: skip


def transient_reason(exc: BaseException) -> str | None:
    """Why `exc` (or an exception it wraps) is worth retrying: AWS throttling, 5xx or a network timeout."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TransientError):
            return str(current)
        if isinstance(current, (BotoConnectionError, TimeoutError)):
            return f"{type(current).__name__}"
        if isinstance(current, ClientError):
            code = str(current.response.get("Error", {}).get("Code", ""))
            if code in TRANSIENT_CODES:
                return f"{code} from {current.operation_name}"
        current = current.__cause__ or getattr(current, "cause", None) or current.__context__
    return None


def new_metrics() -> EphemeralMetrics:
    """A per-invocation EMF buffer in the configured namespace (POWERTOOLS_METRICS_NAMESPACE)."""
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", DEFAULT_METRICS_NAMESPACE)
    return EphemeralMetrics(namespace=namespace, service=SERVICE)


def step(name: str) -> Callable[[Callable[[StepContext], State]], Callable[[State, Any], State]]:
    """Decorate a step body `fn(ctx) -> new state` into a Lambda handler `(event, context) -> state`."""

    def decorate(fn: Callable[[StepContext], State]) -> Callable[[State, Any], State]:
        @functools.wraps(fn)
        def handler(event: State, context: Any = None) -> State:
            metrics = new_metrics()
            metrics.add_dimension(name="step", value=name)
            execution_id = str(event.get("execution_id", ""))
            logger.thread_safe_append_keys(
                project_id=event.get("project_id"), execution_id=execution_id, step=name
            )
            ctx = StepContext(step=name, state=event, metrics=metrics, execution_id=execution_id)
            started = time.monotonic()
            try:
                with tracer.provider.in_subsegment(f"## {name}") as subsegment:
                    subsegment.put_annotation(key="project_id", value=str(event.get("project_id", "")))
                    result = fn(ctx)
            except ProjectGone as exc:
                logger.info("project deleted mid-run; stopping", extra={"reason": str(exc)})
                raise
            except Exception as exc:
                reason = None if isinstance(exc, TransientError) else transient_reason(exc)
                if reason:  # throttling, AWS 5xx, timeouts: let the state machine's Retry handle it
                    logger.warning("transient failure", extra={"error_type": type(exc).__name__, "reason": reason})
                    metrics.add_metric(name="TransientFailures", unit=MetricUnit.Count, value=1)
                    raise TransientError(reason) from exc
                code = getattr(exc, "code", "internal_error")
                metrics.add_metric(name=f"Failures_{code}", unit=MetricUnit.Count, value=1)
                logger.warning("step failed", extra={"error_type": type(exc).__name__, "code": code})
                raise
            else:
                logger.info("step done", extra={"duration_ms": round((time.monotonic() - started) * 1000)})
            finally:
                elapsed_ms = (time.monotonic() - started) * 1000
                metrics.add_metric(name="StepDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
                metrics.flush_metrics()
                logger.thread_safe_clear_keys()
            return result

        return handler

    return decorate


def carry(state: State, **extra: Any) -> State:
    """The ids every state carries forward, plus `extra`."""
    keep = ("project_id", "tenant", "execution_id", "prompt_job_id", "edit_clip_id", "edit_version")
    out = {k: state[k] for k in keep if k in state}
    out.update(extra)
    return out
