"""What tools/list answers, without building the tools.

The rows of ``catalog.py`` are the one source of every tool's name, group, title, description, hints and
argument and result models. ``python -m legnext_mcp.server.schema --write`` writes them, with the schemas,
into ``catalog.json`` and ``schemas.json`` (a test fails when either drifts), so a starting server answers
tools/list from those files and imports the argument models, handlers and service layer only on the first
tools/call: they were most of the start-up time beyond the SDK's own (benchmarks/cold_start.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mcp_types import Tool as MCPTool
from mcp_types import ToolAnnotations

from legnext_mcp.server.schema import published_schema

#: The tool rows as data (generated from catalog.py).
MANIFEST = Path(__file__).with_name("catalog.json")


@dataclass(frozen=True)
class CatalogKey:
    """What the listed tools depend on: the dialect, what it serves, the groups and the relay's prices."""

    dialect: str
    served: frozenset[str]
    toolsets: frozenset[str]
    relay_prices: tuple[tuple[str, int], ...] = ()
    relay_unit: str = "credits"


def paid_description(name: str, summary: str, legnext_price: str, dialect: str, relay_prices: Mapping[str, int],
                     unit: str) -> str:
    """A paid tool's description: what it does and its price (Legnext's documented one, or the relay's)."""
    if dialect == "legnext":
        return f"{summary} {legnext_price}."
    price = relay_prices.get(name)
    known = f"{price} {unit} (your relay's price)" if price is not None else "Priced by your relay"
    return f"{summary} {known}."


def listed(row: Mapping[str, Any], key: CatalogKey) -> bool:
    """Whether a tool row is listed for ``key``: its group is on, and the dialect can serve it."""
    if row["group"] not in key.toolsets:
        return False
    if row["kind"] == "paid":
        return str(row["operation"]) in key.served
    return key.dialect in row["dialects"]


def description(row: Mapping[str, Any], key: CatalogKey) -> str:
    if row["kind"] == "paid":
        return paid_description(row["name"], row["summary"], row["legnext_price"], key.dialect,
                                dict(key.relay_prices), key.relay_unit)
    return str(row["description"])


@cache
def manifest() -> tuple[dict[str, Any], ...]:
    """The rows, as catalog.json holds them; built from catalog.py when the file is missing or unreadable."""
    try:
        rows: list[dict[str, Any]] = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        from legnext_mcp.server.catalog import manifest_rows

        rows = manifest_rows()
    return tuple(rows)


@cache
def paid_names() -> frozenset[str]:
    return frozenset(row["name"] for row in manifest() if row["kind"] == "paid")


@cache
def listing(key: CatalogKey) -> tuple[MCPTool, ...]:
    """The tools/list answer for ``key``, the same as the built tools would give (a test binds the two)."""
    return tuple(MCPTool(name=row["name"], title=row["title"], description=description(row, key),
                         input_schema=published_schema(row["input"]), output_schema=published_schema(row["output"]),
                         annotations=ToolAnnotations(title=row["title"], **row["hints"]))
                 for row in manifest() if listed(row, key))
