"""The tool table of docs/tools.md, generated from the server itself (a test fails when the page drifts).

``python -m legnext_mcp.server.tool_table`` prints it; ``--write docs/tools.md`` replaces it in place.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio

from legnext_mcp.server.front import build_server
from legnext_mcp.settings import Settings

START, END = "<!-- tools:start -->", "<!-- tools:end -->"


async def tool_table() -> str:
    server = build_server(Settings(api_key="unused", sandbox=True))
    relay = {tool.name for tool in await build_server(Settings(api_key="unused", sandbox=True, dialect="mj-proxy"))
             .list_tools()}
    rows = ["| tool | what it does | kind | on a relay (`mj-proxy`) |", "|---|---|---|---|"]
    for tool in await server.list_tools():
        hints = tool.annotations
        # The lean list drops hints equal to the spec's defaults (read-only and idempotent default to false).
        # A paid tool reaches the API (open world); a tool that only writes a local file is free.
        paid = hints and not hints.read_only_hint and not hints.idempotent_hint and hints.open_world_hint is not False
        kind = "paid" if paid else "free"
        names = list(tool.input_schema.get("properties", {}))
        # The typed Midjourney parameters of imagine would swamp the column.
        args = ", ".join(names) if len(names) <= 8 else ", ".join(names[:2]) + f", ... {len(names) - 2} more"
        summary = " ".join((tool.description or "").split())
        rows.append(f"| `{tool.name}({args})` | {summary} | {kind} | {'yes' if tool.name in relay else 'no'} |")
    return "\n".join(rows)


def replace_table(readme: str, table: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> None:
    table = anyio.run(tool_table)
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        path = Path(sys.argv[2])
        path.write_text(replace_table(path.read_text(), table))
    else:
        print(table)


if __name__ == "__main__":
    main()
