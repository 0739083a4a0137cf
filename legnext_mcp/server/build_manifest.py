"""Writes ``manifest.json``: every tool's row and published schemas, from the rows (``rows.py``), the argument
and result models and the dialects' own tables (what each serves, a published price). Run when they change:

    python -m legnext_mcp.server.build_manifest --write

Nothing imports this module at run time (the server reads the file: ``manifest.py``); a test fails when the
file differs from what this writes, and the packaging test checks the file is in the wheel.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from legnext_mcp.core.operations import Operation
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect
from legnext_mcp.server.manifest import PATH
from legnext_mcp.server.results import JobResult
from legnext_mcp.server.rows import FREE_TOOLS, PAID_HINTS, PAID_TOOLS
from legnext_mcp.server.schema import input_schema, output_schema, schema_key

#: The 64 px icons of the server and of each tool group, drawn by mcpb/draw_icons.py (a checkout's file: this
#: builder runs in a checkout; the manifest carries them as data: URIs, so a host fetches nothing).
ICONS = Path(__file__).resolve().parents[2] / "mcpb" / "icons"
ICON_NAMES = ("server", "core", "edit", "video", "account")

#: Every dialect, by its LEGNEXT_DIALECT name (a test binds these to ``dialects.DIALECTS``).
DIALECT_CLASSES: dict[str, type[LegnextDialect] | type[MjProxyDialect]] = {
    "legnext": LegnextDialect, "mj-proxy": MjProxyDialect}


def _served(operation: type[Operation]) -> list[str]:
    return [name for name, cls in DIALECT_CLASSES.items() if operation in cls.OPERATIONS]


def icons() -> dict[str, str]:
    """The server's and each group's icon as a ``data:`` URI."""
    return {name: "data:image/png;base64," + base64.b64encode((ICONS / f"{name}.png").read_bytes()).decode()
            for name in ICON_NAMES}


def build() -> dict[str, Any]:
    """The manifest as data: ``tools`` (in listing order), ``schemas`` (by ``schema_key``) and ``icons`` (the
    server's and each group's)."""
    tools: list[dict[str, Any]] = []
    models: dict[str, tuple[str, type[BaseModel]]] = {}
    for paid in PAID_TOOLS:
        prices = {name: price for name, cls in DIALECT_CLASSES.items()
                  if (price := cls.published_price(paid.operation)) is not None}
        tools.append({"kind": "paid", "name": paid.name, "operation": paid.operation.__name__,
                      "price_key": paid.operation.key(), "group": paid.group, "title": paid.title,
                      "summary": paid.summary, "prices": prices, "served_by": _served(paid.operation),
                      "hints": PAID_HINTS, "input": schema_key("input", paid.args),
                      "output": schema_key("output", JobResult)})
        models[schema_key("input", paid.args)] = ("input", paid.args)
    models[schema_key("output", JobResult)] = ("output", JobResult)
    for free in FREE_TOOLS:
        tools.append({"kind": "free", "name": free.name, "group": free.group, "title": free.title,
                      "description": free.description, "served_by": sorted(free.dialects), "hints": dict(free.hints),
                      "input": schema_key("input", free.args), "output": schema_key("output", free.output)})
        models[schema_key("input", free.args)] = ("input", free.args)
        models[schema_key("output", free.output)] = ("output", free.output)
    schemas = {key: input_schema(model) if kind == "input" else output_schema(model)
               for key, (kind, model) in sorted(models.items())}
    return {"tools": tools, "schemas": schemas, "icons": icons()}


def text() -> str:
    """The file's text (argument order is the schemas' key order: not sorted)."""
    return json.dumps(build(), indent=1) + "\n"


def main() -> None:
    """Print the manifest; ``--write`` writes it."""
    if sys.argv[1:] == ["--write"]:
        PATH.write_text(text(), encoding="utf-8")
    else:
        print(text(), end="")


if __name__ == "__main__":
    main()
