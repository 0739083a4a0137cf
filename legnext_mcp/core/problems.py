"""The one renderer of validation problems, for every place that checks input (tool arguments, operations,
wire requests, the skill's flags): the argument, what is wrong, what is allowed, and what was given; never
pydantic's URLs or class names.

Ranges and choices are read from the model's own fields, so "must be between 0 and 3" names both ends even
when only one was passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

#: Location parts that name a wrapper, not an argument (the SDK passes a tool's arguments as ``call``).
_WRAPPERS = frozenset({"call"})
_BOUNDS = ("less_than_equal", "greater_than_equal", "less_than", "greater_than")


def string_options(annotation: Any) -> tuple[str, ...]:
    """The string values of a ``Literal[...]`` annotation (possibly inside ``| None``)."""
    if get_origin(annotation) is Literal:
        return tuple(v for v in get_args(annotation) if isinstance(v, str))
    return tuple(v for arg in get_args(annotation) for v in string_options(arg))


def _bounds(model: type[BaseModel] | None, name: str) -> tuple[object, object, tuple[str, ...]]:
    info = model.model_fields.get(name) if model is not None else None
    if info is None:
        return None, None, ()
    low: object = None
    high: object = None
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            low = item.ge if isinstance(item, annotated_types.Ge) else item.gt
        elif isinstance(item, annotated_types.Le | annotated_types.Lt):
            high = item.le if isinstance(item, annotated_types.Le) else item.lt
    return low, high, string_options(info.annotation)


def _what(kind: str, ctx: Mapping[str, Any], name: str, low: Any, high: Any, options: tuple[str, ...],
          message: str) -> str:
    if kind == "missing":
        return "is required"
    if kind in _BOUNDS:
        if low is not None and high is not None:
            return f"must be between {low} and {high}"
        if kind in ("less_than_equal", "less_than"):
            return f"must be at most {ctx.get('le', ctx.get('lt'))}"
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    if kind == "literal_error" or (options and kind.endswith("_type")):
        return f"must be one of: {', '.join(options or str(ctx.get('expected', '')).split(' or '))}"
    texts = {
        "string_too_long": f"must be at most {ctx.get('max_length')} characters",
        "string_too_short": f"must be at least {ctx.get('min_length')} character(s)",
        "too_long": f"must have at most {ctx.get('max_length')} items",
        "too_short": f"must have at least {ctx.get('min_length')} items",
        "string_pattern_mismatch": "must be width:height in whole numbers, like 16:9" if name == "aspect_ratio"
        else "has the wrong form",
        "int_type": "must be a whole number", "int_parsing": "must be a whole number",
        "int_from_float": "must be a whole number", "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false", "bool_parsing": "must be true or false", "string_type": "must be text",
        "list_type": "must be a list", "model_type": "must be an object", "dict_type": "must be an object",
        "model_attributes_type": "must be an object",
    }
    return texts.get(kind, message.removeprefix("Value error, "))


def explain(problem: ErrorDetails, model: type[BaseModel] | None = None, *,
            names: Mapping[str, str] | None = None) -> str:
    """One problem: ``where: what is wrong (got X)``. ``names`` renames arguments for where they were given
    under another name (the skill's ``--image`` is the operation's ``index``)."""
    location = [str(part) for part in problem["loc"] if part not in _WRAPPERS]
    name = location[0] if location else ""
    low, high, options = _bounds(model, name) if len(location) == 1 else (None, None, ())
    kind, ctx = problem["type"], problem.get("ctx") or {}
    got = problem.get("input")
    shown = "" if isinstance(got, dict | list) or got is None or kind == "missing" else f" (got {repr(got)[:60]})"
    where = ".".join(location) or "arguments"
    if names and name in names:
        where = ".".join([names[name], *location[1:]])
    return f"{where}: {_what(kind, ctx, name, low, high, options, str(problem['msg']))}{shown}"


def describe(exc: ValidationError, model: type[BaseModel] | None = None, *,
             names: Mapping[str, str] | None = None) -> str:
    """Every problem of ``exc``, joined by ``; ``."""
    return "; ".join(explain(problem, model, names=names) for problem in exc.errors(include_url=False))
