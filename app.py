"""Klipstar's Chalice app: the REST API routes and the pipeline's Lambda functions.

Thin by design: routes live in chalicelib/api (one blueprint per resource), pipeline steps in
chalicelib/pipeline; this file only wires them to the app.
"""

from chalice import Chalice

app = Chalice(app_name="klipstar")

# --- REST API (chalicelib/api: blueprints per resource, middleware, catch-all 404s) ---------------
from chalicelib.api.wiring import register_api  # noqa: E402

register_api(app)
