"""MCP wiring: tools, resources and the server factory. Imports ``mcp``; ``legnext_mcp.api`` does not."""

from legnext_mcp.server.app import build_server

__all__ = ["build_server"]
