"""MCP wiring: the cold front (``front``: tools/list from the manifest) and the warm back (``back``: the tools,
resources, prompts and services, built on first need). Imports ``mcp``; ``legnext_mcp.api`` does not."""

from legnext_mcp.server.front import build_server

__all__ = ["build_server"]
