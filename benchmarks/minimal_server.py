"""The baseline: a minimal MCPServer with one tool, started the same way as legnext-mcp: stdio, or
``--http PORT`` for Streamable HTTP on 127.0.0.1 (uvicorn, as the SDK serves it)."""

import sys

import uvicorn
from mcp.server import MCPServer

server = MCPServer("minimal")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    if sys.argv[1:2] == ["--http"]:
        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[2]), log_level="error")
    else:
        server.run("stdio")
