"""The SDK ``Tool`` objects, built from the rows (``rows.py``) and the handlers (``tools.py``) once per server
on its first call: every paid tool runs ``tools.run_job``; each free tool its own handler.

This is the one place that builds SDK tools from its internals (``FuncMetadata``, ``build_resolver_plans``),
so the ``mcp`` pin names the minor versions it was checked with (tests/server/test_sdk_pin.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel

from legnext_mcp.server import args as a
from legnext_mcp.server import tools as t
from legnext_mcp.server.manifest import CatalogKey, description, icons, listed, rows
from legnext_mcp.server.results import JobResult
from legnext_mcp.server.rows import BY_NAME, PAID_HINTS, FreeTool, PaidTool
from legnext_mcp.server.schema import input_schema, output_schema

Handler = Callable[..., Awaitable[CallToolResult]]

#: Each free tool's handler (every paid tool runs ``tools.run_job``).
HANDLERS: dict[str, Handler] = {
    "wait_for_job": t.wait_for_job, "get_job": t.get_job, "save_images": t.save_images, "list_jobs": t.list_jobs,
    "get_balance": t.get_balance, "estimate_cost": t.estimate_cost, "imagine_batch": t.imagine_batch,
    "upload_picture": t.upload_picture,
}


def _tool(name: str, args: type[a.ToolArgs], handler: Handler, output: type[BaseModel], title: str,
          text: str, hints: Mapping[str, bool], group: str) -> Tool:
    """A ``Tool`` whose function receives its validated arguments whole (``ToolArgs.model_dump_one_level``)."""
    resolved = find_resolved_parameters(handler)
    return Tool(fn=handler, name=name, title=title, description=text, parameters=input_schema(args),
                fn_metadata=FuncMetadata(arg_model=args, output_schema=output_schema(output)), is_async=True,
                context_kwarg="ctx", resolved_params=resolved, resolver_plans=build_resolver_plans(resolved, {"call"}),
                annotations=ToolAnnotations(title=title, **hints), icons=icons(group))


def build_tools(key: CatalogKey) -> dict[str, tuple[PaidTool | FreeTool, Tool]]:
    """The listed tools for ``key`` by name, each with its row, in the manifest's order."""
    tools: dict[str, tuple[PaidTool | FreeTool, Tool]] = {}
    for row in rows():
        if not listed(row, key):
            continue
        spec = BY_NAME[row["name"]]
        if isinstance(spec, PaidTool):
            tool = _tool(spec.name, spec.args, t.run_job, JobResult, spec.title, description(row, key), PAID_HINTS,
                         spec.group)
        else:
            tool = _tool(spec.name, spec.args, HANDLERS[spec.name], spec.output, spec.title, spec.description,
                         spec.hints, spec.group)
        tools[spec.name] = (spec, tool)
    return tools
