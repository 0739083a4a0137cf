"""legnext-mcp: MCP server, typed client and simulator for the Legnext Midjourney API."""

__version__ = "0.1.0"
