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
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer
from mcp.server.auth.provider import TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError
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
    TextContent,
)
from mcp_types import Tool as MCPTool

from legnext_mcp import __version__
from legnext_mcp.core import capabilities
from legnext_mcp.core.errors import LedgerError, LocalValidationError
from legnext_mcp.ledger import open_ledger
from legnext_mcp.server.gallery import FREE_GALLERY_TOOLS, GalleryLinks, apps_extension
from legnext_mcp.server.manifest import CatalogKey, icons, listing, paid_names
from legnext_mcp.server.people import caller_for
from legnext_mcp.server.session import Session
from legnext_mcp.service.caller import calling
from legnext_mcp.settings import Settings, missing_key_message

if TYPE_CHECKING:  # named for types only: importing them is the back, made on first need
    from legnext_mcp.dialects.base import Dialect
    from legnext_mcp.server.back import Back

log = logging.getLogger("legnext_mcp.server")
#: Requests that need the back (every other one is answered by the front or the SDK alone).
_WARM_METHODS = ("tools/call", "resources/", "prompts/", "completion/")
WEBSITE = "https://github.com/legnext-ai/legnext-mcp"


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

    def __init__(self, settings: Settings, key: CatalogKey, *, dialect: Dialect[Any] | None = None,
                 auth: tuple[TokenVerifier, AuthSettings] | None = None) -> None:
        self.config = settings  # not `settings`: MCPServer keeps its own there
        self.key = key
        self._dialect = dialect
        self._back: Back | None = None
        self._sessions: list[Session] = []
        names = frozenset(tool.name for tool in listing(key))
        service = "the Legnext API" if settings.dialect == "legnext" else "a midjourney-proxy relay"
        #: Setup mode (no key, no simulator): every call answers this line; nothing of the back is built.
        self.setup = missing_key_message(settings.dialect) if settings.needs_key and dialect is None else None
        told = instructions(service, names)
        # A question asked across round trips (a confirmation) is sealed with these keys; replicas that share
        # them (LEGNEXT_REQUEST_STATE_KEYS) can each take the answer to a question another one asked.
        sealing = RequestStateSecurity(keys=list(settings.request_state_keys)) if settings.request_state_keys else None
        super().__init__("legnext", title="Legnext Midjourney", version=__version__, website_url=WEBSITE,
                         icons=icons("server"), instructions=told if self.setup is None else f"{self.setup} {told}",
                         lifespan=self._lifespan,
                         log_level=settings.log_level, extensions=[apps_extension()], request_state_security=sealing,
                         middleware=[self._warm_up, GalleryLinks(names & (paid_names() | FREE_GALLERY_TOOLS))],
                         token_verifier=auth[0] if auth else None, auth=auth[1] if auth else None)
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

    async def news(self, token: str, named: str | None) -> bool:
        """A callback arrived (``server/edge.py``): if its capability belongs to a running job (and the body, if
        it names a job, names that one), the poller reads the job now. Nothing else happens, whatever it says.
        Whether the capability was good."""
        session = self._sessions[-1] if self._sessions else None
        if session is None or not capabilities.well_formed(token):
            return False
        try:
            found = await session.ledger.claim_callback(capabilities.digest(token))
        except LedgerError as exc:
            log.warning("a callback could not be looked up: %s", exc.message)
            return True  # our failure, not the caller's: not counted against it
        if found is None or (named is not None and named != found[1]):
            return False
        services = (await self.back().open(session)).services
        if found[0] == services.dialect.name:
            services.poller.poke(found[1])
        return True

    async def _warm_up(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method.startswith(_WARM_METHODS) and isinstance(ctx.lifespan_context, Session) and self.setup is None:
            try:
                who, key = caller_for(self.config, ctx.request)
            except LocalValidationError as exc:  # a shared server's request without what it must bring
                if ctx.method == "tools/call":
                    return CallToolResult(content=[TextContent(type="text", text=exc.message)], is_error=True)
                raise MCPError(INVALID_PARAMS, exc.message) from None
            await self.back().open(ctx.lifespan_context)
            with calling(who, key):
                return await call_next(ctx)
        return await call_next(ctx)

    async def list_tools(self) -> list[MCPTool]:
        return list(listing(self.key))

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Session, Any] | None = None) -> CallToolResult | InputRequiredResult:
        if self.setup is not None:
            return CallToolResult(content=[TextContent(text=self.setup)], is_error=True)
        return await self.back().call_tool(name, arguments, context if context is not None else Context(
            mcp_server=self))

    async def read_resource(self, uri: Any, context: Context[Session, Any] | None = None,
                            ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        if self.setup is not None:
            raise ResourceError(self.setup)
        return await super().read_resource(uri, context)

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
        return None if self.setup is not None else await self.back().complete(argument)


def catalog_key(settings: Settings) -> CatalogKey:
    prices = settings.relay_prices if settings.dialect != "legnext" else {}
    return CatalogKey(dialect=settings.dialect, toolsets=settings.toolsets,
                      relay_prices=tuple(sorted(prices.items())), relay_unit=settings.relay_price_unit)


def build_server(settings: Settings, *, dialect: Dialect[Any] | None = None, http: bool = False) -> LegnextServer:
    """The MCP server. ``dialect`` replaces the API connection (tests pass one wired to the simulator);
    otherwise the first call connects as the settings say, and the lifespan closes it. ``http``: for the HTTP
    transport, where LEGNEXT_OAUTH_ISSUER makes it an OAuth resource server."""
    auth = oauth(settings) if http else None
    return LegnextServer(settings, catalog_key(settings), dialect=dialect, auth=auth)


def oauth(settings: Settings) -> tuple[TokenVerifier, AuthSettings] | None:
    """The token verifier and the SDK's resource-server settings when LEGNEXT_OAUTH_ISSUER is set: tokens must be
    issued by the issuer for ``{LEGNEXT_PUBLIC_URL}/mcp`` (the verifier checks the audience itself, and the SDK
    checks it again as the token's resource), carrying LEGNEXT_OAUTH_SCOPES; the SDK serves the Protected
    Resource Metadata and answers 401/403 with ``WWW-Authenticate`` naming it."""
    if settings.oauth_issuer is None or settings.resource_url is None:
        return None
    from legnext_mcp.server.identity import JwtVerifier  # PyJWT and key handling: only a server that uses them

    verifier = JwtVerifier(settings.oauth_issuer, settings.resource_url)
    # From strings, so the SDK's settings keep the URLs exactly as configured (an issuer is compared as a string).
    return verifier, AuthSettings.model_validate({
        "issuer_url": settings.oauth_issuer, "resource_server_url": settings.resource_url,
        "required_scopes": list(settings.oauth_scopes) or None, "validate_token_resource": True})
