"""Attach the API to the Chalice app: middleware, one blueprint per resource, and catch-all 404s."""

from __future__ import annotations

from collections.abc import Callable

from chalice import Chalice, Response

from .errors import ApiError
from .middleware import api_middleware
from .routes import (
    clips,
    edits,
    meta,
    projects,
    social_accounts,
    templates,
    uploads,
    webhook_endpoints,
    webhooks,
)

CATCH_ALL_DEPTH = 6
CATCH_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def register_api(app: Chalice) -> None:
    """Register the middleware, the resource blueprints and catch-all routes on `app`.

    Unknown paths would otherwise get API Gateway's/Chalice's 403 "Missing Authentication Token";
    routes /{p1}…/{p6} answer them with the error shape instead (concrete routes always win).
    """
    app.register_middleware(api_middleware, "http")
    for module in (projects, uploads, clips, edits, meta, webhooks, social_accounts, webhook_endpoints, templates):
        app.register_blueprint(module.bp)
    for depth in range(1, CATCH_ALL_DEPTH + 1):
        path = "/" + "/".join(f"{{p{i}}}" for i in range(1, depth + 1))
        view = _catch_all(depth)
        app.route(path, methods=CATCH_ALL_METHODS)(view)


def _catch_all(depth: int) -> Callable[..., Response]:
    """A view answering 404 in the error shape for any path of `depth` segments."""

    def view(**params: str) -> Response:
        return ApiError(404, "resource_missing", "Unknown path. See GET /v1/openapi.json.").to_response()

    view.__name__ = f"not_found_{depth}"
    return view
