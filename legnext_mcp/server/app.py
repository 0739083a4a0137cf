"""``build_server``: the one factory that wires settings, the dialect, the service layer, tools and resources."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcp.server import MCPServer
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    CallToolResult,
    Completion,
    CompletionArgument,
    CompletionContext,
    GetPromptResult,
    InputRequiredResult,
    PromptReference,
    ResourceTemplateReference,
)
from mcp_types import Prompt as MCPPrompt
from mcp_types import Resource as MCPResource
from mcp_types import ResourceTemplate as MCPResourceTemplate
from mcp_types import Tool as MCPTool

from legnext_mcp import __version__
from legnext_mcp.dialects import operations_of
from legnext_mcp.server.gallery import FREE_GALLERY_TOOLS, GalleryLinks, apps_extension
from legnext_mcp.server.listing import CatalogKey, listing, paid_names
from legnext_mcp.settings import Settings

if TYPE_CHECKING:
    from legnext_mcp.dialects.base import Dialect
    from legnext_mcp.service.runtime import Services

INSTRUCTIONS = """Midjourney images and video through {service}.
Typical flow: generate_and_wait(prompt) gives 4 images (image_no 0-3) -> upscale / variation / pan / \
video_diffusion with its job_id -> save_images to keep the files (links expire after 30 days). describe(image_url) \
suggests prompts for generate_and_wait. The other job tools (imagine, upscale, ...) submit and return the job_id at \
once: then wait_for_job(job_ids) gives the result. Paid tools say their price; estimate_cost checks and prices a call \
without sending it. A wait hands a still-running job back with its id before the host's time limit: call \
wait_for_job again. Read legnext://guide/parameters before writing \
--flags."""


@dataclass
class Live:
    """The running server's services, for handlers that get no request context (completion, static resources)."""

    current: Services | None = None


class LegnextServer(MCPServer["Services"]):
    """MCPServer that answers tools/list from the published rows and builds the tools on the first call (the
    argument models, handlers and service layer are most of our start-up time), and validates arguments
    itself first, so every problem reaches the model in our words and no argument is silently dropped.

    Resources and prompts are registered on the first request about either: the SDK builds a validator for
    each function it registers (~10 ms together at start-up), and most sessions only list and call tools."""

    def __init__(self, *args: Any, key: CatalogKey, live: Live, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key = key
        self._live = live
        self._unregistered = True

    def _registered(self) -> None:
        if self._unregistered:
            from legnext_mcp.server.prompts import register_prompts
            from legnext_mcp.server.resources import register_resources

            self._unregistered = False
            register_resources(self, self._live)
            register_prompts(self)

    async def list_resources(self) -> list[MCPResource]:
        self._registered()
        return await super().list_resources()

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        self._registered()
        return await super().list_resource_templates()

    async def read_resource(self, uri: Any, context: Context[Services, Any] | None = None
                            ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        self._registered()
        return await super().read_resource(uri, context)

    async def list_prompts(self) -> list[MCPPrompt]:
        self._registered()
        return await super().list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Context[Services, Any] | None = None) -> GetPromptResult | InputRequiredResult:
        self._registered()
        return await super().get_prompt(name, arguments, context)

    async def list_tools(self) -> list[MCPTool]:
        return list(listing(self.key))

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Services, Any] | None = None) -> CallToolResult | InputRequiredResult:
        from legnext_mcp.server.catalog import BY_NAME, catalog, validate_arguments

        tool, spec = catalog(self.key).get(name), BY_NAME.get(name)
        if tool is None or spec is None:
            raise ToolError(f"Unknown tool: {name[:64]!r}. The tools are listed by tools/list.")
        arguments = tool.fn_metadata.pre_parse_json(arguments)
        arguments = validate_arguments(spec, arguments).model_dump(exclude_unset=True, mode="json")
        ctx: Context[Services, Any] = context if context is not None else Context(mcp_server=self)
        result: CallToolResult | InputRequiredResult = await tool.run(arguments, ctx, convert_result=True)
        return result


def catalog_key(settings: Settings) -> CatalogKey:
    served = operations_of(settings.dialect)
    prices: Mapping[str, int] = settings.relay_prices if settings.dialect != "legnext" else {}
    return CatalogKey(dialect=settings.dialect, served=served, toolsets=settings.toolsets,
                      relay_prices=tuple(sorted(prices.items())), relay_unit=settings.relay_price_unit)


def build_server(settings: Settings, client: Any = None, *, dialect: Dialect | None = None) -> LegnextServer:
    """The MCP server. ``dialect`` (or a ``LegnextClient`` as ``client``) replaces the API connection (tests
    pass one wired to the simulator); otherwise the lifespan connects as the settings say, and closes it."""
    if client is not None:
        from legnext_mcp.dialects.legnext.dialect import LegnextDialect

        dialect = LegnextDialect(client)
    live = Live()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Services]) -> AsyncIterator[Services]:
        from legnext_mcp.service.connect import LazyDialect, make_dialect
        from legnext_mcp.service.runtime import open_services

        async with AsyncExitStack() as stack:
            api: Dialect
            if dialect is not None:
                api = dialect
            else:  # the real API's dialect is made on first use; the sandbox starts now
                api = make_dialect(settings, stack) if settings.sandbox else LazyDialect(settings)
            services = await stack.enter_async_context(open_services(settings, api, own_dialect=dialect is None))
            live.current = services
            try:
                yield services
            finally:
                live.current = None

    service = "the Legnext API" if settings.dialect == "legnext" else "a midjourney-proxy relay"
    key = catalog_key(settings)
    linkable = paid_names() | FREE_GALLERY_TOOLS
    shown_in_gallery = frozenset(t.name for t in listing(key) if t.name in linkable)
    server = LegnextServer("legnext", title="Legnext Midjourney", version=__version__,
                           instructions=INSTRUCTIONS.format(service=service), lifespan=lifespan,
                           log_level=settings.log_level, key=key, extensions=[apps_extension()],
                           middleware=[GalleryLinks(shown_in_gallery)], live=live)
    _register_completion(server, live)
    return server


def _register_completion(server: MCPServer[Any], live: Live) -> None:
    """Job-id completion (resource templates and prompts) from the ledger. Registered at start, unlike the
    resources: the SDK advertises the completions capability by whether a handler exists at the handshake."""

    async def complete(ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                       context: CompletionContext | None) -> Completion | None:
        if argument.name != "job_id" or live.current is None:  # asked before the lifespan started: nothing known
            return None
        svc = live.current
        ids = await svc.ledger.ids(svc.dialect.name, argument.value, limit=20)
        return Completion(values=ids, total=len(ids), has_more=False)

    server.completion()(complete)  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped

