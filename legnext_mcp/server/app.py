"""``build_server``: the one factory that wires settings, client, ledger, tools and resources together."""

from __future__ import annotations

import difflib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, Icon, InputRequiredResult, ToolAnnotations
from mcp_types import Tool as MCPTool

from legnext_mcp import __version__
from legnext_mcp.api import LegnextClient
from legnext_mcp.ledger import Ledger
from legnext_mcp.server import job_admin_tools as admin
from legnext_mcp.server.job_tools import JOB_TOOLS
from legnext_mcp.server.prompts import register_prompts
from legnext_mcp.server.resources import register_resources
from legnext_mcp.server.runtime import Runtime, RuntimeRef
from legnext_mcp.server.schema import brief_output_of, lean_tool, output_model
from legnext_mcp.server.tool_factory import make_estimate_tool, make_tool
from legnext_mcp.settings import Settings

INSTRUCTIONS = """Legnext Midjourney: make and edit images and video.
Typical flow: generate_and_wait(prompt) -> pick an image (image_no 0-3) -> upscale / variation / pan / \
video_diffusion with the job_id. describe(image_url) suggests prompts. Paid tools say their price in points \
(1000 points = $1). A tool that waits hands a still-running job back before the host's time limit: then call \
wait_for_job with its id. Read legnext://guide/parameters before writing --flags. Use save_images to keep \
files (links expire after 30 days)."""

_PAID = {"read_only_hint": False, "destructive_hint": False, "idempotent_hint": False, "open_world_hint": True}
_READ = {"read_only_hint": True, "destructive_hint": False, "idempotent_hint": True, "open_world_hint": True}
#: (tool, group, title, annotations) of the tools that do not create jobs.
ADMIN_TOOLS: list[tuple[Callable[..., Any], str, str, dict[str, bool]]] = [
    (admin.wait_for_job, "core", "Wait for jobs", _READ),
    (admin.get_job, "core", "Get a job", _READ),
    (admin.save_images, "core", "Save a job's files",
     {**_READ, "read_only_hint": False}),
    (admin.list_jobs, "account", "List recent jobs", {**_READ, "open_world_hint": False}),
    (admin.get_balance, "account", "Account balance", _READ),
]


def unknown_arguments(tool: str, unknown: list[str], known: list[str]) -> str:
    """The message for arguments a tool does not have, with the likely intended names."""
    parts = []
    for key in unknown[:5]:
        close = difflib.get_close_matches(key.lower().replace("-", "_"), known, n=1, cutoff=0.6)
        parts.append(f"{key[:40]!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return (f"{tool} has no argument {', '.join(parts)}. Nothing was sent. Its arguments are: "
            f"{', '.join(known) or 'none'}.")


class LegnextServer(MCPServer[Runtime]):
    """MCPServer whose tools/list is lean (see ``schema``): same tools, a fraction of the context.

    A tool returning ``Annotated[CallToolResult, Model]`` builds its own structured content from
    ``Model``; its output schema is made here once per model, instead of by the SDK once per tool
    (pydantic schema generation was most of the start-up time with 27 tools).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outputs: dict[str, dict[str, Any]] = {}

    def add_tool(self, fn: Callable[..., Any], name: str | None = None, title: str | None = None,
                 description: str | None = None, annotations: ToolAnnotations | None = None,
                 icons: list[Icon] | None = None, meta: dict[str, Any] | None = None,
                 structured_output: bool | None = None) -> None:
        model = output_model(fn)
        if model is not None:
            self._outputs[name or fn.__name__] = brief_output_of(model)
            structured_output = False  # the tool builds its structured content itself
        super().add_tool(fn, name=name, title=title, description=description, annotations=annotations, icons=icons,
                         meta=meta, structured_output=structured_output)

    async def list_tools(self) -> list[MCPTool]:
        return [lean_tool(tool, self._outputs.get(tool.name)) for tool in await super().list_tools()]

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Runtime, Any] | None = None) -> CallToolResult | InputRequiredResult:
        """Refuse arguments a tool does not have before anything runs. The SDK would drop them silently,
        and a misspelt ``aspectRatio`` would then buy a square image instead of a question."""
        tool = self._tool_manager.get_tool(name)
        if tool is not None:
            known = tool.parameters.get("properties", {})
            unknown = [key for key in arguments if key not in known]
            if unknown:
                raise ToolError(unknown_arguments(name, unknown, list(known)))
        return await super().call_tool(name, arguments, context)


def _sandbox_client(settings: Settings, stack: AsyncExitStack) -> LegnextClient:
    """The simulator on a loopback port (so its image URLs open in a browser) and a client for it."""
    from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
    from legnext_mcp.sandbox.serve import LoopbackSandbox

    server = LoopbackSandbox(SandboxApp(Engine(time_scale=settings.time_scale))).start()
    stack.callback(server.stop)
    return LegnextClient(DEFAULT_KEY, base_url=server.base_url, time_scale=settings.time_scale)


def build_server(settings: Settings, client: LegnextClient | None = None) -> MCPServer[Runtime]:
    """The MCP server. ``client`` replaces the HTTP client (tests pass one wired to the simulator);
    otherwise the lifespan creates one for ``settings`` (or a sandbox) and closes it at shutdown."""
    ref = RuntimeRef()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Runtime]) -> AsyncIterator[Runtime]:
        async with AsyncExitStack() as stack:
            api = client
            if api is None:
                if settings.sandbox:
                    api = _sandbox_client(settings, stack)
                else:
                    assert settings.api_key is not None  # Settings.from_env guarantees it
                    api = LegnextClient(settings.api_key, base_url=settings.base_url, time_scale=settings.time_scale)
                stack.push_async_callback(api.aclose)
            ledger = Ledger(settings.ledger_path)
            await ledger.open()
            stack.push_async_callback(ledger.close)
            ref.current = Runtime(settings=settings, client=api, ledger=ledger)
            try:
                yield ref.current
            finally:
                ref.current = None

    server: MCPServer[Runtime] = LegnextServer(
        "legnext", title="Legnext Midjourney", version=__version__, instructions=INSTRUCTIONS,
        lifespan=lifespan, log_level=settings.log_level,
    )
    for spec in JOB_TOOLS:
        if spec.group in settings.toolsets:
            server.add_tool(make_tool(spec), title=spec.title, annotations=ToolAnnotations(title=spec.title, **_PAID))
    for tool, group, title, hints in ADMIN_TOOLS:
        if group in settings.toolsets:
            server.add_tool(tool, title=title, annotations=ToolAnnotations(title=title, **hints))
    if "core" in settings.toolsets:
        specs = [spec for spec in JOB_TOOLS if spec.group in settings.toolsets]
        server.add_tool(make_estimate_tool(specs), title="Estimate cost (sends nothing)",
                        annotations=ToolAnnotations(title="Estimate cost (sends nothing)", **_READ))
    register_resources(server, ref)
    register_prompts(server)
    return server
