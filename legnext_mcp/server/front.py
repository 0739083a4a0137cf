"""The cold front of the MCP server: what a starting server needs to answer initialize and tools/list, and no
more. The tools are listed from the manifest (``manifest.py``: rows and schemas as data); the ledger is opened
when the server starts, so a bad data folder fails at once. Everything else (the tools' argument models and
handlers, the service layer, the dialect) is the back (``back.py``), imported at one lazy seam,
``LegnextServer.back``, by the first request that needs it: a tool call, a resource, a prompt, a completion.

That split is what keeps start-up close to a bare ``MCPServer`` (benchmarks/cold_start.py): the back is most of
the package's import time, and a host that starts the server only to list its tools never pays it. It follows
github-mcp-server's ``ServerTool`` (a static definition, the handler made on demand), in one place.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.request_state import RequestStateSecurity
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolResult,
    Completion,
    CompletionArgument,
    CompletionContext,
    InputRequiredResult,
    PromptReference,
    ResourceTemplateReference,
)
from mcp_types import Tool as MCPTool

from legnext_mcp import __version__
from legnext_mcp.core.errors import LedgerError
from legnext_mcp.ledger import open_ledger
from legnext_mcp.server.gallery import FREE_GALLERY_TOOLS, GalleryLinks, apps_extension
from legnext_mcp.server.manifest import CatalogKey, listing, paid_names
from legnext_mcp.server.session import Session
from legnext_mcp.settings import Settings

if TYPE_CHECKING:  # named for types only: importing them is the back, made on first need
    from legnext_mcp.dialects.base import Dialect
    from legnext_mcp.server.back import Back

log = logging.getLogger("legnext_mcp.server")
#: Requests that need the back (every other one is answered by the front or the SDK alone).
_WARM_METHODS = ("tools/call", "resources/", "prompts/", "completion/")


def instructions(service: str, names: frozenset[str]) -> str:
    """The server's instructions, naming only the tools this server lists (LEGNEXT_TOOLSETS can hide some)."""
    parts = [f"Midjourney images and video through {service}."]
    if "generate_and_wait" in names:
        follow = [name for name in ("upscale", "variation", "pan", "video_diffusion") if name in names]
        keep = " -> save_images to keep the files (links expire after 30 days)" if "save_images" in names else ""
        parts.append("Typical flow: generate_and_wait(prompt) gives 4 images (image_no 0-3)"
                     + (f" -> {' / '.join(follow)} with its job_id" if follow else "") + f"{keep}.")
    if "describe" in names and "generate_and_wait" in names:
        parts.append("describe(image_url) suggests prompts for generate_and_wait.")
    if "wait_for_job" in names:
        others = [name for name in ("imagine", "upscale", "variation", "pan", "video_diffusion") if name in names]
        tools = f"The other job tools ({', '.join(others[:3])}, ...)" if others else "Job tools"
        parts.append(f"{tools} submit and return the job_id at once: then "
                     "wait_for_job(job_ids) gives the result. A wait hands a still-running job back with its id "
                     "before the host's time limit: call wait_for_job again.")
    parts.append("Paid tools say their price" + ("; estimate_cost checks and prices a call without sending it."
                                                 if "estimate_cost" in names else "."))
    parts.append("Read legnext://guide/parameters before writing --flags.")
    return " ".join(parts)


class LegnextServer(MCPServer[Session]):
    """``MCPServer`` that lists its tools from the manifest, opens the ledger at start, and builds the rest on
    the first request that needs it. Arguments are validated in our words before a tool runs (``back``)."""

    def __init__(self, settings: Settings, key: CatalogKey, *, dialect: Dialect[Any] | None = None) -> None:
        self.config = settings  # not `settings`: MCPServer keeps its own there
        self.key = key
        self._dialect = dialect
        self._back: Back | None = None
        self._sessions: list[Session] = []
        names = frozenset(tool.name for tool in listing(key))
        service = "the Legnext API" if settings.dialect == "legnext" else "a midjourney-proxy relay"
        # A question asked across round trips (a confirmation) is sealed with these keys; replicas that share
        # them (LEGNEXT_REQUEST_STATE_KEYS) can each take the answer to a question another one asked.
        sealing = RequestStateSecurity(keys=list(settings.request_state_keys)) if settings.request_state_keys else None
        super().__init__("legnext", title="Legnext Midjourney", version=__version__,
                         instructions=instructions(service, names), lifespan=self._lifespan,
                         log_level=settings.log_level, extensions=[apps_extension()], request_state_security=sealing,
                         middleware=[self._warm_up, GalleryLinks(names & (paid_names() | FREE_GALLERY_TOOLS))])
        # At start, not with the back: the SDK advertises completions by whether a handler exists at the handshake.
        self.completion()(self._complete)  # type: ignore[no-untyped-call]  # the SDK's decorator is untyped

    def back(self) -> Back:
        """The warm half of the server, built by the first request that needs it."""
        if self._back is None:
            from legnext_mcp.server.back import Back  # the one lazy seam (see the module's docstring)

            self._back = Back(self, self.key, dialect=self._dialect, latest=self._sessions)
        return self._back

    @asynccontextmanager
    async def _lifespan(self, _: MCPServer[Session]) -> AsyncIterator[Session]:
        ledger = open_ledger(self.config)
        await ledger.open()  # a bad data folder is a start-up failure with its fix, not a mid-job one
        try:
            async with AsyncExitStack() as stack:
                group = await stack.enter_async_context(anyio.create_task_group())
                stack.callback(group.cancel_scope.cancel)  # the poller runs until the server stops
                session = Session(settings=self.config, ledger=ledger, stack=stack, group=group)
                self._sessions.append(session)
                try:
                    yield session
                finally:
                    self._sessions.remove(session)
        finally:
            await ledger.close()

    async def ready(self) -> str | None:
        """None when the server can take calls now (its ledger answers); otherwise why not (logged, not shown)."""
        session = self._sessions[-1] if self._sessions else None
        if session is None:
            return "not started"
        try:
            await session.ledger.ping()
        except LedgerError as exc:
            log.warning("not ready: %s", exc.message)
            return "the ledger does not answer"
        return None

    async def _warm_up(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method.startswith(_WARM_METHODS) and isinstance(ctx.lifespan_context, Session):
            await self.back().open(ctx.lifespan_context)
        return await call_next(ctx)

    async def list_tools(self) -> list[MCPTool]:
        return list(listing(self.key))

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Session, Any] | None = None) -> CallToolResult | InputRequiredResult:
        return await self.back().call_tool(name, arguments, context if context is not None else Context(
            mcp_server=self))

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Context[Session, Any] | None = None) -> Any:
        """The SDK's, with a bad request (an unknown prompt, a missing or wrong argument) answered as invalid
        params naming what to send, not logged as an internal error with a traceback."""
        try:
            return await super().get_prompt(name, arguments, context)
        except MCPError:
            raise
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, f"{exc}. See prompts/list for the prompt's arguments.") from None

    async def _complete(self, ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument,
                        context: CompletionContext | None) -> Completion | None:
        return await self.back().complete(argument)


def catalog_key(settings: Settings) -> CatalogKey:
    prices = settings.relay_prices if settings.dialect != "legnext" else {}
    return CatalogKey(dialect=settings.dialect, toolsets=settings.toolsets,
                      relay_prices=tuple(sorted(prices.items())), relay_unit=settings.relay_price_unit)


def build_server(settings: Settings, *, dialect: Dialect[Any] | None = None) -> LegnextServer:
    """The MCP server. ``dialect`` replaces the API connection (tests pass one wired to the simulator);
    otherwise the first call connects as the settings say, and the lifespan closes it."""
    return LegnextServer(settings, catalog_key(settings), dialect=dialect)
