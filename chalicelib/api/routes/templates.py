"""/v1/templates: an account's saved render styles (brand templates), per account and mode."""

from __future__ import annotations

from chalice import Blueprint

from ...data.models import Template, utcnow
from ...engine.errors import InvalidOptions
from ...engine.style import deep_merge, parse_style
from ..errors import ApiError
from ..loaders import new_id
from ..routing import Call, Reply, api_route
from ..schemas import ListTemplatesQuery, TemplateCreate, TemplateList, TemplateOut, TemplateUpdate
from ..serialize import template_out
from ..styles import load_template, style_param

bp = Blueprint(__name__)
TAG = "templates"


@api_route(bp, "/v1/templates", "POST", status=201, summary="Save a named render style", tag=TAG,
           request=TemplateCreate, response=TemplateOut, errors=(400, 413, 415))
def create_template(call: Call) -> Reply:
    body: TemplateCreate = call.body
    now = utcnow()
    template = Template(new_id("tmpl_"), tenant=call.principal.tenant, name=body.name.strip(),
                        style=body.style.to_dict(), created_at=now, updated_at=now)
    template.save(condition=Template.template_id.does_not_exist())
    return Reply(201, template_out(template))


@api_route(bp, "/v1/templates", "GET", summary="List saved styles, newest first", tag=TAG,
           query=ListTemplatesQuery, response=TemplateList, errors=(400, 404))
def list_templates(call: Call) -> Reply:
    """Cursor pagination over the by-tenant index (no scan)."""
    query: ListTemplatesQuery = call.query
    tenant = call.principal.tenant
    last_key = None
    if query.starting_after:
        cursor = load_template(tenant, query.starting_after, "starting_after")  # 404 naming starting_after
        last_key = {
            "template_id": {"S": cursor.template_id},
            "tenant": {"S": tenant},
            "created_at": {"S": Template.created_at.serialize(cursor.created_at)},
        }
    rows: list[Template] = []
    for template in Template.by_tenant.query(tenant, scan_index_forward=False, last_evaluated_key=last_key,
                                             page_size=query.limit + 1):
        rows.append(template)
        if len(rows) > query.limit:
            break
    data = [template_out(t).model_dump(mode="json") for t in rows[: query.limit]]
    return Reply(200, {"object": "list", "data": data, "has_more": len(rows) > query.limit})


@api_route(bp, "/v1/templates/{template_id}", "GET", summary="Get a saved style", tag=TAG,
           response=TemplateOut, errors=(404,))
def get_template(call: Call) -> Reply:
    return Reply(200, template_out(load_template(call.principal.tenant, call.params["template_id"], None)))


@api_route(bp, "/v1/templates/{template_id}", "PATCH", summary="Rename a saved style or change its fields",
           tag=TAG, request=TemplateUpdate, response=TemplateOut, errors=(400, 404, 413, 415))
def update_template(call: Call) -> Reply:
    """`style` fields are deep-merged into the saved style; the result is validated as a whole."""
    body: TemplateUpdate = call.body
    template = load_template(call.principal.tenant, call.params["template_id"], None)
    actions = [Template.updated_at.set(utcnow())]
    if body.name is not None:
        actions.append(Template.name.set(body.name.strip()))
    if body.style is not None:
        try:
            style = parse_style(deep_merge(dict(template.style or {}), body.style))
        except InvalidOptions as exc:
            raise ApiError(400, "invalid_field", exc.message, param=style_param(exc.message)) from None
        actions.append(Template.style.set(style.to_dict()))
    template.update(actions=actions, condition=Template.template_id.exists())
    return Reply(200, template_out(template))


@api_route(bp, "/v1/templates/{template_id}", "DELETE", status=204, summary="Delete a saved style", tag=TAG,
           errors=(404,))
def delete_template(call: Call) -> Reply:
    """Projects that used it keep their resolved style."""
    template = load_template(call.principal.tenant, call.params["template_id"], None)
    template.delete(condition=Template.template_id.exists())
    return Reply(204)
