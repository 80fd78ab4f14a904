"""Klipstar's Chalice app: the REST API routes and the Lambda functions packaged with it.

Thin by design: routes live in chalicelib/api (one blueprint per resource), pipeline steps in
chalicelib/pipeline, delivery in chalicelib/webhooks and chalicelib/publishing; this file only wires
them to the app. The media steps (ingest, transcribe, score, render, prompt search) run from the
container image described in infra/, not from this zip.
"""

from typing import Any

from chalice import Chalice
from chalice.app import CloudWatchEvent, SQSEvent

from chalicelib.api.wiring import register_api
from chalicelib.pipeline import edit_finalize as _edit_finalize
from chalicelib.pipeline import finalize as _finalize
from chalicelib.pipeline import mark_failed as _mark_failed
from chalicelib.pipeline import notify as _notify
from chalicelib.pipeline import prompt_finalize as _prompt_finalize
from chalicelib.pipeline import sweeper as _sweeper
from chalicelib.publishing import worker as _publish_worker
from chalicelib.webhooks import dispatcher as _webhook_dispatcher

app = Chalice(app_name="klipstar")

# --- REST API (blueprints per resource, middleware, catch-all 404s) ------------------------------
register_api(app)


# --- pipeline steps that need no media libraries -------------------------------------------------
@app.lambda_function(name="finalize")
def finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _finalize.handler(event, context)


@app.lambda_function(name="notify")
def notify(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _notify.handler(event, context)


@app.lambda_function(name="mark_failed")
def mark_failed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _mark_failed.handler(event, context)


@app.lambda_function(name="prompt_finalize")
def prompt_finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _prompt_finalize.handler(event, context)


@app.lambda_function(name="edit_finalize")
def edit_finalize(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _edit_finalize.handler(event, context)


@app.schedule("rate(5 minutes)", name="sweeper")
def sweeper(event: CloudWatchEvent) -> dict[str, Any]:
    return _sweeper.handler(event.to_dict(), event.context)


@app.schedule("rate(1 hour)", name="publish_maintenance")
def publish_maintenance(event: CloudWatchEvent) -> dict[str, Any]:
    """Publishing upkeep: stuck publications resumed or failed, social tokens refreshed before expiry."""
    return _publish_worker.maintenance_handler(event.to_dict(), event.context)


# --- queue workers -----------------------------------------------------------------------------
@app.on_sqs_message(queue="klipstar-webhooks", batch_size=10, name="webhook_dispatcher")
def webhook_dispatcher(event: SQSEvent) -> dict[str, Any]:
    return _webhook_dispatcher.handle_records([record.to_dict() for record in event])


@app.on_sqs_message(queue="klipstar-publish", batch_size=1, name="publish_worker")
def publish_worker(event: SQSEvent) -> dict[str, Any]:
    return _publish_worker.sqs_handler(event)
