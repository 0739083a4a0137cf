"""The typed Midjourney parameters of imagine are bound to the prompt grammar's table
(core.prompt.FLAGS): every range and choice the tools publish is the one the validator applies."""

from __future__ import annotations

from typing import Any

import pytest

from legnext_mcp.core.prompt import FLAGS, PARAMETER_FLAGS, VERSIONS
from legnext_mcp.server.args import MidjourneyParams
from legnext_mcp.server.schema import input_schema

BY_NAME = {flag.name: flag for flag in FLAGS}


def published(name: str) -> dict[str, Any]:
    prop = input_schema(MidjourneyParams)["properties"][name]
    return next(o for o in prop["anyOf"] if o != {"type": "null"})


def test_every_typed_parameter_is_a_flag_of_the_table_and_every_table_row_is_reachable() -> None:
    assert set(PARAMETER_FLAGS) == set(MidjourneyParams.model_fields)
    for key, flag_name in PARAMETER_FLAGS.items():
        assert flag_name == "speed" or flag_name in BY_NAME, key


def test_ranges_and_choices_match_the_table() -> None:
    for key, flag_name in PARAMETER_FLAGS.items():
        schema = published(key)
        if flag_name == "speed":
            assert schema["enum"] == ["fast", "turbo"] and {"fast", "turbo"} <= set(BY_NAME)
            continue
        flag = BY_NAME[flag_name]
        if flag.kind in ("int", "optional-int", "number"):
            assert (schema["minimum"], schema["maximum"]) == (flag.low, flag.high), key
            assert schema["type"] == ("number" if flag.kind == "number" else "integer"), key
        elif flag.kind == "switch":
            assert schema["type"] == "boolean", key
        elif flag.kind == "choice" and key == "version":
            assert schema["enum"] == [*flag.values_for("*"), "niji 6"] == list(VERSIONS)
        elif flag.kind == "choice":
            offered = {v for values in flag.choices.values() for v in values}
            assert set(schema["enum"]) == offered, key
        elif flag.kind == "ratio":
            assert schema["pattern"] == "^[0-9]{1,5}:[0-9]{1,5}$"
        else:
            assert schema["type"] == "string", key


def test_the_published_schemas_are_the_ones_the_models_make() -> None:
    import json

    from legnext_mcp.server.schema import PUBLISHED, generate

    assert json.loads(PUBLISHED.read_text()) == generate(), \
        "schemas.json is stale: run python -m legnext_mcp.server.schema --write"


def test_the_published_tool_rows_are_the_catalog_s() -> None:
    import json

    from legnext_mcp.server.catalog import manifest_rows
    from legnext_mcp.server.listing import MANIFEST

    assert json.loads(MANIFEST.read_text()) == manifest_rows(), \
        "catalog.json is stale: run python -m legnext_mcp.server.schema --write"


@pytest.mark.parametrize(("dialect", "toolsets", "prices"), [
    ("legnext", frozenset({"core", "edit", "video", "account"}), ()),
    ("legnext", frozenset({"core"}), ()),
    ("mj-proxy", frozenset({"core", "edit", "video", "account"}), (("upscale", 7),)),
    ("mj-proxy", frozenset({"core", "video"}), ()),
])
def test_tools_list_from_the_rows_is_what_the_built_tools_list(dialect: str, toolsets: frozenset[str],
                                                                prices: tuple[tuple[str, int], ...]) -> None:
    """tools/list is answered without building the tools; the answer must be the one they would give."""
    from mcp_types import Tool as MCPTool

    from legnext_mcp.dialects import operations_of
    from legnext_mcp.server.catalog import catalog
    from legnext_mcp.server.listing import CatalogKey, listing

    key = CatalogKey(dialect=dialect, served=operations_of(dialect), toolsets=toolsets, relay_prices=prices)
    built = [MCPTool(name=t.name, title=t.title, description=t.description, input_schema=t.parameters,
                     output_schema=t.output_schema, annotations=t.annotations) for t in catalog(key).values()]
    assert [t.model_dump() for t in listing(key)] == [t.model_dump() for t in built]
    assert len(built) > 5
