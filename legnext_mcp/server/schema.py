"""Lean tool schemas for tools/list: every character there is paid in the model's context, on every
conversation, whether a tool is used or not.

What goes: pydantic's ``title`` on every property (the name says it), ``anyOf [T, null]`` with a null
default (an optional argument is simply left out), ``minLength: 1``, and in output schemas everything
but the always-present fields (structured results keep all their fields; the schema allows them).
What stays: every type, enum, range, required list and each parameter's description. Server-side
validation is unchanged: it runs on the full pydantic models.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, get_args, get_origin, get_type_hints

from mcp_types import Tool, ToolAnnotations
from pydantic import BaseModel

# ToolAnnotations defaults from the MCP spec; a hint equal to its default says nothing.
_HINT_DEFAULTS = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": False,
                  "open_world_hint": True}


def _strip_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if schema.get("default", 0) is None and isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1:
            merged = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
            return {**kept[0], **merged}
    return schema


def compact_input(schema: Any) -> Any:
    """A copy of a JSON schema without titles, null-default unions and ``minLength: 1``."""
    if isinstance(schema, list):
        return [compact_input(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in _strip_null(schema).items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "minLength" and value == 1:
            continue
        if key == "properties":
            out[key] = {name: compact_input(sub) for name, sub in value.items()}
        elif key == "$defs":  # shared types: the parameter using one carries the description
            out[key] = {name: {k: v for k, v in compact_input(sub).items() if k != "description"}
                        for name, sub in value.items()}
        else:
            out[key] = compact_input(value)
    return out


def _bare_type(schema: dict[str, Any]) -> dict[str, Any] | None:
    kind = schema.get("type")
    return {"type": kind} if isinstance(kind, str) else None


#: What a job result declares: what the next call is made from. The other JobResult fields are sent too.
_JOB_OUTPUTS = ("job_id", "status", "image_urls")


def brief_output(schema: dict[str, Any]) -> dict[str, Any]:
    """Bare types of the fields a caller chains on: a job's id, status and image URLs, or the required
    fields of other results. Every other field is still sent (``additionalProperties`` is not
    restricted) and documented in the README."""
    properties = schema.get("properties", {})
    required = [name for name in schema.get("required", []) if name in properties]
    names = [n for n in _JOB_OUTPUTS if n in properties] if "job_id" in required else required
    props = {name: bare for name in names if (bare := _bare_type(properties[name])) is not None}
    out: dict[str, Any] = {"type": "object", "properties": props}
    kept = [name for name in required if name in props]
    if kept:
        out["required"] = kept
    return out


def lean_annotations(hints: ToolAnnotations | None) -> ToolAnnotations | None:
    """Hints that differ from the spec defaults only (the tool's own ``title`` already names it)."""
    if hints is None:
        return None
    values = {name: getattr(hints, name) for name in _HINT_DEFAULTS
              if getattr(hints, name) is not None and getattr(hints, name) != _HINT_DEFAULTS[name]}
    return ToolAnnotations(**values)


def output_model(fn: Callable[..., Any]) -> type[BaseModel] | None:
    """``Model`` of a tool returning ``Annotated[CallToolResult, Model]``, else None."""
    returned = get_type_hints(fn, include_extras=True).get("return")
    if get_origin(returned) is Annotated:
        model = get_args(returned)[1]
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model
    return None


@cache
def brief_output_of(model: type[BaseModel]) -> dict[str, Any]:
    return brief_output(model.model_json_schema())


def lean_tool(tool: Tool, output_schema: dict[str, Any] | None = None) -> Tool:
    return tool.model_copy(update={
        "description": " ".join((tool.description or "").split()),
        "input_schema": compact_input(tool.input_schema),
        "output_schema": output_schema or (brief_output(tool.output_schema) if tool.output_schema else None),
        "annotations": lean_annotations(tool.annotations),
    })
