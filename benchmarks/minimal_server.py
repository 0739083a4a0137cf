"""The baseline: a minimal MCPServer with one tool, started the same way as legnext-mcp (stdio)."""

from mcp.server import MCPServer

server = MCPServer("minimal")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


if __name__ == "__main__":
    server.run("stdio")
