"""Portable JSON schemas: what every client we tested converts without error (README "Use with agent
frameworks").

From a pydantic schema, keep every type, enum, range, required list and description, and:
* inline ``$ref``/``$defs`` (Gemini's converter and several others do not follow references);
* optional arguments as ``anyOf [T, {"type": "null"}]`` (not a type list, which Anthropic's and Gemini's
  converters refuse), so a client in OpenAI strict mode can send null for "not given";
* no ``exclusiveMinimum``/``exclusiveMaximum`` (Gemini's Schema has no such keys);
* no ``additionalProperties`` at all: google-genai's MCP path (``tools=[session]``) breaks on a boolean
  there, even at the root; unknown arguments are refused by the server either way, and OpenAI strict
  clients add ``false`` themselves (openai-agents then keeps ``get_balance``, which takes no arguments,
  non-strict: harmless, where the alternative broke every tool for Gemini);
* no ``title`` and no ``default: null`` (noise in the model's context);
* in input schemas, one description per argument: nested objects' descriptions (class docstrings, written
  for Python readers) are dropped; the argument's own line says what the model needs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel

_WAITING = ("timeout_s", "include_preview")


def _resolve(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_resolve(item, defs) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = dict(defs[schema["$ref"].rsplit("/", 1)[-1]])
        siblings = {k: v for k, v in schema.items() if k != "$ref"}
        return _resolve({**target, **siblings}, defs)
    return {key: _resolve(value, defs) for key, value in schema.items() if key != "$defs"}


def _rebuild(schema: Any, node: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """``schema`` rebuilt bottom-up with ``node`` applied to every subschema (a ``properties`` map's keys are
    argument names, not keywords: its values are the subschemas)."""
    if isinstance(schema, list):
        return [_rebuild(item, node) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return node({key: ({name: _rebuild(sub, node) for name, sub in value.items()} if key == "properties"
                       else _rebuild(value, node)) for key, value in schema.items()})


_DROPPED = ("title", "exclusiveMinimum", "exclusiveMaximum", "additionalProperties")


def _clean_node(schema: dict[str, Any]) -> dict[str, Any]:
    out = {key: value for key, value in schema.items()
           if key not in _DROPPED and not (key == "default" and value is None)}
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 1:  # a union of one: the option itself
        return {**options[0], **{k: v for k, v in out.items() if k != "anyOf"}}
    return out


def portable(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``schema`` in the portable form described above."""
    inlined = _resolve(schema, schema.get("$defs", {}))
    cleaned = _rebuild(inlined, _clean_node)
    assert isinstance(cleaned, dict)
    if cleaned.get("type") == "object":
        cleaned.setdefault("properties", {})
    return cleaned


def field_order(model: type[BaseModel]) -> list[str]:
    """A tool's own arguments first (most specific class first), the waiting arguments last."""
    seen: list[str] = []
    for cls in model.__mro__:
        for name in getattr(cls, "__annotations__", {}):
            if name in model.model_fields and name not in seen:
                seen.append(name)
    return [n for n in seen if n not in _WAITING] + [n for n in _WAITING if n in seen]


def _undescribed(schema: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in schema.items() if key != "description"}


def _one_description(argument: dict[str, Any]) -> dict[str, Any]:
    """An argument's schema with its own description and none below it."""
    inner = {key: _rebuild(value, _undescribed) for key, value in argument.items() if key != "description"}
    return {**inner, **({"description": argument["description"]} if "description" in argument else {})}


def make_input_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = portable(model.model_json_schema())
    properties = schema.get("properties", {})
    schema["properties"] = {name: _one_description(properties[name]) for name in field_order(model)
                            if name in properties}
    return schema


def _absent_not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Optional result fields as their type alone: ``OutputModel.structured`` leaves out a null (or empty)
    field instead of sending it, so the schema need not allow null. Half the subschemas go, and with them half
    the time a client spends checking the schema: the Python SDK compiles it once per session and tool, the 1.x
    clients the frameworks use on every call (tests/server/test_tools.py checks results against it)."""
    required = set(schema.get("required", []))
    properties = dict(schema.get("properties", {}))
    for name, sub in properties.items():
        options = sub.get("anyOf")
        if name not in required and isinstance(options, list) and len(options) == 2 and {"type": "null"} in options:
            kept = next(option for option in options if option != {"type": "null"})
            properties[name] = {**kept, **{k: v for k, v in sub.items() if k != "anyOf"}}
    return {**schema, "properties": properties} if "properties" in schema else schema


def make_output_schema(model: type[BaseModel]) -> dict[str, Any]:
    result: dict[str, Any] = _rebuild(portable(model.model_json_schema()), _absent_not_null)
    return result


def schema_key(kind: str, model: type[BaseModel]) -> str:
    """How the manifest names a model's schema (``kind`` is "input" or "output")."""
    return f"{kind}:{model.__module__}.{model.__qualname__}"


@cache
def input_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The published input schema of a tool's argument model."""
    return make_input_schema(model)


@cache
def output_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The published output schema of a result model: the whole model, every field described."""
    return make_output_schema(model)
