"""GET /v1/openapi.json (no key needed)."""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from ..openapi import build_openapi
from ..routing import ROUTES, RouteSpec

bp = Blueprint(__name__)

ROUTES.append(RouteSpec(method="GET", path="/v1/openapi.json", operation_id="get_openapi",
                        summary="This API's OpenAPI 3.1 document", tag="meta", status=200, request_model=None,
                        query_model=None, response_model=None, errors=(), auth=False))


@bp.route("/v1/openapi.json", methods=["GET"])
def get_openapi() -> Response:
    return Response(body=json.dumps(build_openapi()), status_code=200, headers={"Content-Type": "application/json"})
