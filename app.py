"""Klipstar's Chalice app: the REST API routes and the pipeline's Lambda functions.

Thin by design: routes live in chalicelib/api (one blueprint per resource), pipeline steps in
chalicelib/pipeline; this file only wires them to the app.
"""

from chalice import Chalice

app = Chalice(app_name="klipstar")

# --- REST API (chalicelib/api: blueprints per resource, middleware, catch-all 404s) ---------------
from chalicelib.api.wiring import register_api  # noqa: E402

register_api(app)


# --- pipeline (zip functions; the media steps run from the container image, see infra/) ----------
from typing import Any  # noqa: E402

from chalice.app import CloudWatchEvent, SQSEvent  # noqa: E402

from chalicelib.pipeline import finalize as _finalize  # noqa: E402
from chalicelib.pipeline import mark_failed as _mark_failed  # noqa: E402
from chalicelib.pipeline import notify as _notify  # noqa: E402
from chalicelib.pipeline import prompt_finalize as _prompt_finalize  # noqa: E402
from chalicelib.pipeline import sweeper as _sweeper  # noqa: E402
from chalicelib.webhooks import dispatcher as _webhook_dispatcher  # noqa: E402


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


@app.schedule("rate(5 minutes)", name="sweeper")
def sweeper(event: CloudWatchEvent) -> dict[str, Any]:
    return _sweeper.handler(event.to_dict(), event.context)


@app.on_sqs_message(queue="klipstar-webhooks", batch_size=10, name="webhook_dispatcher")
def webhook_dispatcher(event: SQSEvent) -> dict[str, Any]:
    return _webhook_dispatcher.handle_records([record.to_dict() for record in event])


from chalicelib.publishing import worker as _publish_worker  # noqa: E402


@app.on_sqs_message(queue="klipstar-publish", batch_size=1, name="publish_worker")
def publish_worker(event: SQSEvent) -> dict[str, Any]:
    return _publish_worker.sqs_handler(event)
