"""Regenerate the README's configuration table from chalicelib/settings.py (between the CONFIG markers)."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chalicelib.settings import Settings, env_name  # noqa: E402

BEGIN, END = "<!-- CONFIG -->", "<!-- /CONFIG -->"


def config_table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for f in dataclasses.fields(Settings):
        default = f.default
        shown = "(secret, empty)" if f.metadata.get("secret") else (f"`{default}`" if default != "" else "(empty)")
        rows.append(f"| `{env_name(f.name)}` | {shown} | {f.metadata['help']} |")
    return "\n".join(rows)


def render(readme: str) -> str:
    block = (
        f"{BEGIN}\n## Configuration\n\nEvery setting is an environment variable (read once per process by "
        "`chalicelib/settings.py`; this table is generated from it by `python scripts/gen_config_table.py`). "
        "AWS credentials come from the usual AWS variables or role; the object store can have its own keys.\n\n"
        f"{config_table()}\n{END}"
    )
    pattern = re.compile(re.escape(BEGIN) + r".*?(" + re.escape(END) + r"|$)", re.S)
    if END in readme:
        return pattern.sub(lambda _: block, readme, count=1)
    return readme.replace(BEGIN, block, 1)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text()))
    print("README configuration table updated")
