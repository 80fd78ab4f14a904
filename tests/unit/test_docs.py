"""The README's generated tables and docs/openapi.json match the code (run scripts/gen_docs.py if not)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

from chalicelib.settings import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
gen_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen_docs)


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [env_name(f.name) for f in dataclasses.fields(Settings) if f"`{env_name(f.name)}`" not in readme]
    assert missing == [], f"README lacks {missing}: run python scripts/gen_docs.py"


def test_readme_tables_are_current() -> None:
    doc = gen_docs.openapi_document()
    readme = (ROOT / "README.md").read_text()
    assert gen_docs.render_readme(readme, doc) == readme, "README is stale: run python scripts/gen_docs.py"


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert committed == gen_docs.openapi_document(), "docs/openapi.json is stale: run python scripts/gen_docs.py"
