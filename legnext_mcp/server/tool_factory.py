"""Turn a request builder (``job_tools``) into an MCP tool.

The tool's signature is the builder's plus ``wait``/``timeout_s``/``include_preview`` and two resolved
parameters the model never sees: ``plan`` (every check before spending: the request, the parent job,
the price, the budget) and ``approval`` (the user's confirmation above LEGNEXT_CONFIRM_ABOVE_POINTS,
asked through MCP elicitation). Resolvers run before the tool body, in both protocol eras, so a job is
submitted only after it was checked, priced and, when asked, approved; and only once.

MCPServer reads a tool's parameters from ``inspect.signature`` and ``get_type_hints``, so the generated
functions carry an explicit ``__signature__`` and ``__annotations__``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, get_type_hints

from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import CallToolResult, TextContent
from pydantic import Field, ValidationError, validate_call

from legnext_mcp.api import LegnextError
from legnext_mcp.api.models import describe_validation_error
from legnext_mcp.server.job_tools import JobTool, Preview, Timeout, Wait
from legnext_mcp.server.preflight import ConfirmSpend, NoQuestion, Plan, confirmation, preflight
from legnext_mcp.server.results import JobResult, OutputModel
from legnext_mcp.server.runtime import runtime, submit, tool_error

Ctx = Context[Any, Any]
Result = Annotated[CallToolResult, JobResult]
_POSITIONAL = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, _POSITIONAL, annotation=annotation, default=default)


def tool_name(spec: JobTool) -> str:
    return spec.name or spec.build.__name__


def build_checked(spec: JobTool, arguments: dict[str, Any]) -> Any:
    """The builder applied to arguments by name; a builder error becomes the model-facing ToolError."""
    try:
        return spec.build(**arguments)
    except LegnextError as exc:
        raise tool_error(exc) from None


def can_elicit(ctx: Ctx) -> bool:
    caps = ctx.client_capabilities
    return caps is not None and caps.elicitation is not None


def make_tool(spec: JobTool) -> Callable[..., Awaitable[CallToolResult]]:
    """The MCP tool for ``spec``: checked, priced, approved, submitted once, recorded, optionally awaited."""
    name = tool_name(spec)
    hints = get_type_hints(spec.build, include_extras=True)
    builder_params = list(inspect.signature(spec.build).parameters.values())
    arg_names = [p.name for p in builder_params]

    async def plan(ctx: Ctx, **arguments: Any) -> Plan:
        request = build_checked(spec, arguments)
        try:
            return await preflight(runtime(ctx), request)
        except LegnextError as exc:
            raise tool_error(exc) from None

    plan.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [_param("ctx", Ctx), *(_param(n, Any) for n in arg_names)])
    plan.__annotations__ = {"ctx": Ctx, "return": Plan}
    plan.__qualname__ = f"{name}.plan"  # the resolver's key on the wire: one per tool

    async def approve(ctx: Ctx, checked: Annotated[Plan, Resolve(plan)]) -> NoQuestion | Elicit[ConfirmSpend]:
        return confirmation(runtime(ctx).settings, checked, can_ask=can_elicit(ctx))

    approve.__annotations__ = {"ctx": Ctx, "checked": Annotated[Plan, Resolve(plan)],
                               "return": NoQuestion | Elicit[ConfirmSpend]}
    approve.__qualname__ = f"{name}.approve"

    async def tool(ctx: Ctx, **arguments: Any) -> CallToolResult:
        checked: Plan = arguments["checked"]
        answer: ElicitationResult[ConfirmSpend] = arguments["approval"]
        notes = list(checked.notes)
        if not isinstance(answer, AcceptedElicitation) or (
                isinstance(answer.data, ConfirmSpend) and not answer.data.confirm):
            raise ToolError(f"Not submitted: the user did not confirm spending {checked.estimate.points} points. "
                            "Nothing was sent.")
        if isinstance(answer.data, NoQuestion) and answer.data.note:
            notes.append(answer.data.note)
        elif isinstance(answer.data, ConfirmSpend):
            notes.append(f"Confirmed by the user ({checked.estimate.points} points).")
        wait = arguments.get("wait", True) if spec.wait is not None else True
        return await submit(ctx, checked.request, wait=wait, timeout_s=arguments.get("timeout_s"),
                            include_preview=arguments.get("include_preview", False),
                            estimated_points=checked.estimate.points, notes=notes)

    extras = []
    if spec.wait is not None:
        extras.append(_param("wait", Wait, spec.wait))
    extras.append(_param("timeout_s", Timeout, None))
    if spec.preview:
        extras.append(_param("include_preview", Preview, False))
    resolved = [
        _param("checked", Annotated[Plan, Resolve(plan)], None),
        _param("approval", Annotated[ElicitationResult[ConfirmSpend], Resolve(approve)], None),
    ]
    params = [_param("ctx", Ctx), *(p.replace(annotation=hints[p.name]) for p in builder_params), *extras, *resolved]
    tool.__signature__ = inspect.Signature(params, return_annotation=Result)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in params} | {"return": Result}
    tool.__name__ = tool.__qualname__ = name
    tool.__doc__ = spec.description or spec.build.__doc__
    return tool


class CostEstimate(OutputModel):
    """What a job tool call would cost, after every check it would pass; nothing was sent."""

    tool: str
    points: int
    usd: float
    basis: str
    would_ask_user: bool
    notes: list[str]


def make_estimate_tool(specs: list[JobTool]) -> Callable[..., Awaitable[CallToolResult]]:
    """``estimate_cost``: validate and price a call to any job tool without sending it."""
    by_name = {tool_name(spec): spec for spec in specs}
    # The tools' own argument rules (types, ranges, literals), applied to the arguments given here.
    validated = {name: validate_call(spec.build) for name, spec in by_name.items()}

    async def estimate_cost(
            ctx: Ctx,
            tool: Annotated[str, Field(max_length=64, description="Job tool name, e.g. generate_and_wait, upscale")],
            arguments: Annotated[dict[str, Any], Field(description="The arguments you would pass to that tool")],
    ) -> Annotated[CallToolResult, CostEstimate]:
        """Check and price a call to a job tool without sending it: same checks as the tool (flags, parent
        job, budget). Free."""
        spec = by_name.get(tool)
        if spec is None:
            raise ToolError(f"{tool[:64]!r} is not a job tool; use one of: {', '.join(by_name)}.")
        known = {"wait", "timeout_s", "include_preview"}
        try:
            request = validated[tool](**{k: v for k, v in arguments.items() if k not in known})
            checked = await preflight(runtime(ctx), request)
        except ValidationError as exc:
            raise ToolError(describe_validation_error(exc).replace("Invalid request", f"Invalid {tool} call")) from None
        except LegnextError as exc:
            raise tool_error(exc) from None
        question = confirmation(runtime(ctx).settings, checked, can_ask=True)
        result = CostEstimate(tool=tool, points=checked.estimate.points, usd=checked.estimate.usd,
                              basis=checked.estimate.basis, would_ask_user=isinstance(question, Elicit),
                              notes=list(checked.notes))
        text = f"{tool} would cost {checked.estimate}. All local checks pass; nothing was sent."
        if result.would_ask_user:
            text += " It is above LEGNEXT_CONFIRM_ABOVE_POINTS, so the user will be asked to confirm."
        return CallToolResult(content=[TextContent(type="text", text=" ".join([text, *result.notes]))],
                              structured_content=result.model_dump(mode="json"))

    return estimate_cost
