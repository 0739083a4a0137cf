"""What tools/list answers, read from ``manifest.json`` without building a tool.

The manifest holds every tool's row (name, group, title, description or summary and price, hints, which
dialects serve it) and its published input and output schemas. ``build_manifest`` writes it from the rows,
the argument and result models and the dialects' own tables when the package is built; nothing imports that
builder at run time, and a test fails when the file drifts. This module imports only ``json`` and the SDK's
types: a starting server answers initialize and tools/list from here, and builds its tools on the first call
that needs them (``front.LegnextServer.back``).

A missing or unreadable manifest is a packaging bug: it fails loudly, with no fallback that would hide it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mcp_types import Icon, ToolAnnotations
from mcp_types import Tool as MCPTool

PATH = Path(__file__).with_name("manifest.json")


@dataclass(frozen=True)
class CatalogKey:
    """What the listed tools depend on: the dialect, the groups (LEGNEXT_TOOLSETS) and a relay's prices."""

    dialect: str
    toolsets: frozenset[str]
    relay_prices: tuple[tuple[str, int], ...] = ()
    relay_unit: str = "credits"


@cache
def manifest() -> Mapping[str, Any]:
    """The manifest as written by ``build_manifest``.

    Raises:
        OSError, ValueError: the file is missing or damaged (a broken install).
    """
    loaded: Mapping[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
    return loaded


def rows() -> list[Mapping[str, Any]]:
    return list(manifest()["tools"])


def listed(row: Mapping[str, Any], key: CatalogKey) -> bool:
    """Whether a tool is listed for ``key``: its group is on, and the dialect serves it."""
    return row["group"] in key.toolsets and key.dialect in row["served_by"]


def description(row: Mapping[str, Any], key: CatalogKey) -> str:
    """A tool's description: a paid tool's says what it does and its price, the dialect's published one, or a
    relay's configured one (LEGNEXT_RELAY_PRICES, by the operation's name)."""
    if row["kind"] != "paid":
        return str(row["description"])
    published = row["prices"].get(key.dialect)
    if published is not None:
        return f"{row['summary']} {published}."
    price = dict(key.relay_prices).get(row["price_key"])
    known = f"{price} {key.relay_unit} (your relay's price)" if price is not None else "Priced by your relay"
    return f"{row['summary']} {known}."


def icons(name: str) -> list[Icon]:
    """The icon of the server (``server``) or of a tool group, a 64 px PNG as a ``data:`` URI."""
    return [Icon(src=str(manifest()["icons"][name]), mime_type="image/png", sizes=["64x64"])]


def price_keys() -> frozenset[str]:
    """The names a relay's price table may use (LEGNEXT_RELAY_PRICES): the operations of the paid tools."""
    return frozenset(row["price_key"] for row in rows() if row["kind"] == "paid")


def paid_names() -> frozenset[str]:
    return frozenset(row["name"] for row in rows() if row["kind"] == "paid")


@cache
def listing(key: CatalogKey) -> tuple[MCPTool, ...]:
    """The tools/list answer for ``key``, in the manifest's (stable) order; the same as the built tools would
    give (a test binds the two)."""
    schemas = manifest()["schemas"]
    return tuple(MCPTool(name=row["name"], title=row["title"], description=description(row, key),
                         input_schema=schemas[row["input"]], output_schema=schemas[row["output"]],
                         annotations=ToolAnnotations(title=row["title"], **row["hints"]), icons=icons(row["group"]))
                 for row in rows() if listed(row, key))
