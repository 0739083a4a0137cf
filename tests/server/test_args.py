"""The typed Midjourney parameters of imagine are bound to the prompt grammar's table
(core.prompt.FLAGS): every range and choice the tools publish is the one the validator applies."""

from __future__ import annotations

from typing import Any

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
