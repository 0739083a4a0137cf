"""The warm back of the MCP server: the tools built, resources and prompts registered, and per session the
dialect and the services. The front imports this module on the first request that needs it (its one lazy
seam); everything here imports at the top.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus
from mcp_types import CallToolResult, Completion, CompletionArgument, InputRequiredResult

from legnext_mcp.core.job import Job
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.server.catalog import build_tools
from legnext_mcp.server.manifest import CatalogKey
from legnext_mcp.server.prompts import register_prompts
from legnext_mcp.server.resources import register_resources
from legnext_mcp.server.results import Listed
from legnext_mcp.server.rows import TOOL_OF, validate_arguments
from legnext_mcp.server.session import Session
from legnext_mcp.server.tools import Warm
from legnext_mcp.service.caller import caller
from legnext_mcp.service.connect import make_dialect
from legnext_mcp.service.runtime import open_services


class Back:
    """Built once per server, on its first call: the tools of ``key`` and the resources and prompts."""

    def __init__(self, server: MCPServer[Any], key: CatalogKey, *, dialect: Dialect[Any] | None,
                 latest: list[Session]) -> None:
        self.key = key
        self.tools = build_tools(key)
        names = frozenset(self.tools)
        self.listed = Listed(names=names, tools={op: name for op, name in TOOL_OF.items() if name in names})
        self._dialect = dialect
        self._latest = latest
        # The SDK's bus for subscriptions/listen (MCPServer keeps it; Context.notify_resource_updated uses it).
        self._bus: SubscriptionBus = server._subscriptions
        register_resources(server, self.current)
        register_prompts(server)

    def current(self) -> Warm | None:
        """The most recent session's warm state (for handlers the SDK gives no context: static resources,
        completion)."""
        session = self._latest[-1] if self._latest else None
        return session.warm if session is not None and isinstance(session.warm, Warm) else None

    async def open(self, session: Session) -> Warm:
        """The session's services, made on its first call that needs them (the dialect makes no request)."""
        if isinstance(session.warm, Warm):
            return session.warm
        async with session.lock:
            if not isinstance(session.warm, Warm):
                dialect = self._dialect if self._dialect is not None else make_dialect(session.settings)
                stack: AsyncExitStack = session.stack
                services = await stack.enter_async_context(open_services(
                    session.settings, dialect, ledger=session.ledger, own_dialect=self._dialect is None,
                    group=session.group))
                services.poller.listeners.append(self._publish)
                session.warm = Warm(services=services, listed=self.listed)
        assert isinstance(session.warm, Warm)
        return session.warm

    async def _publish(self, jobs: list[Job]) -> None:
        """A resource update for each job whose visible state changed (what the server's waits and polls saw),
        to ``subscriptions/listen`` streams that asked for ``legnext://jobs/{id}``."""
        for job in jobs:
            await self._bus.publish(ResourceUpdated(uri=f"legnext://jobs/{job.job_id}"))

    async def call_tool(self, name: str, arguments: dict[str, Any],
                        context: Context[Session, Any]) -> CallToolResult | InputRequiredResult:
        """Validate the arguments in our words (every problem named, nothing dropped), then run the tool."""
        found = self.tools.get(name)
        if found is None:
            raise ToolError(f"Unknown tool: {name[:64]!r}. The tools are listed by tools/list.")
        spec, tool = found
        arguments = tool.fn_metadata.pre_parse_json(arguments)
        arguments = validate_arguments(spec, arguments).model_dump(exclude_unset=True, mode="json")
        result: CallToolResult | InputRequiredResult = await tool.run(arguments, context, convert_result=True)
        return result

    async def complete(self, argument: CompletionArgument) -> Completion | None:
        """Job ids from the ledger, newest first, for a ``job_id`` argument."""
        state = self.current()
        if argument.name != "job_id" or state is None:
            return None
        svc = state.services
        ids = await svc.ledger.ids(svc.dialect.name, argument.value, limit=20, user=caller().reads)
        return Completion(values=ids, total=len(ids), has_more=False)
