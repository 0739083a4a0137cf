"""tools/list is answered from the manifest without building a tool: the manifest must be what the rows, the
models and the dialects make, the listing must be what the built tools would list, and each price a paid tool
states must be its dialect's own rule."""

from __future__ import annotations

import json

import pytest
from mcp_types import Tool as MCPTool

from legnext_mcp.core import operations as ops
from legnext_mcp.core.operations import Imagine, Upscale
from legnext_mcp.dialects import DIALECTS
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.dialects.legnext.endpoints import BY_OPERATION, TOPAZ_POINTS
from legnext_mcp.server.build_manifest import DIALECT_CLASSES, text
from legnext_mcp.server.catalog import HANDLERS, build_tools
from legnext_mcp.server.manifest import PATH, CatalogKey, description, listing, manifest, rows
from legnext_mcp.server.rows import FREE_TOOLS, PAID_TOOLS


def test_the_manifest_is_what_the_rows_models_and_dialects_make() -> None:
    assert PATH.read_text(encoding="utf-8") == text(), \
        "manifest.json is stale: run python -m legnext_mcp.server.build_manifest --write"


def test_every_dialect_is_in_the_manifest_builder_and_every_free_tool_has_a_handler() -> None:
    assert set(DIALECT_CLASSES) == set(DIALECTS)
    assert set(HANDLERS) == {tool.name for tool in FREE_TOOLS}


@pytest.mark.parametrize(("dialect", "toolsets", "prices"), [
    ("legnext", frozenset({"core", "edit", "video", "account"}), ()),
    ("legnext", frozenset({"core"}), ()),
    ("mj-proxy", frozenset({"core", "edit", "video", "account"}), (("upscale", 7),)),
    ("mj-proxy", frozenset({"core", "video"}), ()),
])
def test_tools_list_from_the_manifest_is_what_the_built_tools_list(dialect: str, toolsets: frozenset[str],
                                                                     prices: tuple[tuple[str, int], ...]) -> None:
    key = CatalogKey(dialect=dialect, toolsets=toolsets, relay_prices=prices)
    built = [MCPTool(name=t.name, title=t.title, description=t.description, input_schema=t.parameters,
                     output_schema=t.output_schema, annotations=t.annotations, icons=t.icons)
             for _, t in build_tools(key).values()]
    assert [t.model_dump() for t in listing(key)] == [t.model_dump() for t in built]
    assert len(built) > 5


def test_each_legnext_tool_states_the_price_its_endpoint_charges() -> None:
    key = CatalogKey(dialect="legnext", toolsets=frozenset({"core", "edit", "video", "account"}))
    by_name = {row["name"]: row for row in rows()}
    for tool in PAID_TOOLS:
        rule = BY_OPERATION[tool.operation].price
        assert description(by_name[tool.name], key).endswith(f" {rule.text}."), tool.name
    # the words say what the rule computes
    assert "80 points" in BY_OPERATION[Imagine].price.text and "turbo" in BY_OPERATION[Imagine].price.text
    assert LegnextDialect.published_price(Upscale) == "120 points"
    topaz = BY_OPERATION[ops.EnhanceUpscale].price.text
    assert all(str(points) in topaz for points in TOPAZ_POINTS.values())


def test_a_relay_tool_states_the_configured_price_of_its_operation_or_says_the_relay_sets_it() -> None:
    by_name = {row["name"]: row for row in rows()}
    key = CatalogKey(dialect="mj-proxy", toolsets=frozenset({"core"}), relay_prices=(("imagine", 9),),
                     relay_unit="quota")
    # generate_and_wait runs the imagine operation: the price set for imagine is its price too
    assert description(by_name["generate_and_wait"], key).endswith("9 quota (your relay's price).")
    assert description(by_name["upscale"], key).endswith("Priced by your relay.")


def test_the_manifest_is_plain_data() -> None:
    loaded = manifest()
    assert json.loads(json.dumps(loaded)) == loaded
    assert [row["name"] for row in loaded["tools"]] == [t.name for t in PAID_TOOLS] + [t.name for t in FREE_TOOLS]
