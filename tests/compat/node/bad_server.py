"""A deliberately unportable MCP server (a bare ``true`` where a schema belongs): the control that shows the
Inspector's ``--strict`` check does fail where it should. Runs with the project's Python (mcp 2.x)."""

from typing import Any

from mcp.server import MCPServer
from pydantic import Field

server = MCPServer("unportable")


@server.tool()
def measure(sizes: list[Any] = Field(json_schema_extra={"items": True})) -> str:  # noqa: B008
    """Measure anything."""
    return str(len(sizes))


if __name__ == "__main__":
    server.run()
