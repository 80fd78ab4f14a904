"""Regenerate the README's generated parts and docs/openapi.json from the code they describe.

- the configuration table, from chalicelib/settings.py (between the CONFIG markers);
- the endpoint table, from the app's OpenAPI document (between the API markers);
- docs/openapi.json, the same document the running API serves at GET /v1/openapi.json.

tests/unit/test_docs.py fails when any of them is stale: run `python scripts/gen_docs.py`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.settings import Settings, env_name  # noqa: E402

README = ROOT / "README.md"
OPENAPI_JSON = ROOT / "docs" / "openapi.json"


def config_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for f in dataclasses.fields(Settings):
        default = f.default
        shown = "(secret, empty)" if f.metadata.get("secret") else (f"`{default}`" if default != "" else "(empty)")
        rows.append(f"| `{env_name(f.name)}` | {shown} | {f.metadata['help']} |")
    return "\n".join(rows)


def openapi_document() -> dict[str, Any]:
    import app  # noqa: F401  (registers the routes the document is built from)
    from chalicelib.api.openapi import build_openapi

    return build_openapi()


def endpoint_table(doc: dict[str, Any]) -> str:
    rows = ["| method | path | what | statuses |", "| --- | --- | --- | --- |"]
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            statuses = ", ".join(sorted(op.get("responses", {})))
            rows.append(f"| {method.upper()} | `{path}` | {op.get('summary', '')} | {statuses} |")
    return "\n".join(rows)


def replace_block(text: str, name: str, body: str) -> str:
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{begin}\n{body}\n{end}"
    if end in text:
        return re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, count=1, flags=re.S)
    return text.replace(begin, block, 1)


def render_readme(text: str, doc: dict[str, Any]) -> str:
    config = (
        "## Configuration\n\nEvery setting is an environment variable, read by `chalicelib/settings.py` "
        "(this table is generated from it by `python scripts/gen_docs.py`). AWS credentials come from the "
        "usual AWS variables or the function's role; the object store may have keys of its own.\n\n"
        + config_table()
    )
    api = (
        "## API reference\n\nThe OpenAPI 3.1 document is served at `GET /v1/openapi.json` (no key needed) and "
        "kept in [docs/openapi.json](docs/openapi.json); both are generated from the request/response models "
        "and the route table, and tests validate real responses against it. Every endpoint but the document "
        "needs `Authorization: Bearer ks_live_…` (or `ks_test_…`, which sees separate data).\n\n"
        + endpoint_table(doc)
    )
    return replace_block(replace_block(text, "CONFIG", config), "API", api)


def main() -> int:
    doc = openapi_document()
    OPENAPI_JSON.parent.mkdir(exist_ok=True)
    OPENAPI_JSON.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    README.write_text(render_readme(README.read_text(), doc))
    print("README.md and docs/openapi.json regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
