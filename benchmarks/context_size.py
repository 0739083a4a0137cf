"""Context size: characters (and tokens, estimated as chars/4) of tools/list, per tool and in total,
for all tools and for LEGNEXT_TOOLSETS=core. Goals: total <= 24,000; core <= 8,000."""

from __future__ import annotations

import anyio

from benchmarks._common import table
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings


async def sizes(toolsets: frozenset[str] | None = None) -> dict[str, int]:
    settings = Settings(api_key="unused") if toolsets is None else Settings(api_key="unused", toolsets=toolsets)
    tools = await build_server(settings).list_tools()
    # What goes on the wire: compact JSON, camelCase keys, no nulls.
    return {t.name: len(t.model_dump_json(by_alias=True, exclude_none=True)) for t in tools}


async def main() -> str:
    every = await sizes()
    core = await sizes(frozenset({"core"}))
    rows: list[list[object]] = [[name, chars, chars // 4] for name, chars in every.items()]
    total, core_total = sum(every.values()), sum(core.values())
    rows.append(["**all tools**", f"**{total}**", f"**{total // 4}**"])
    rows.append([f"**core set** ({len(core)} tools)", f"**{core_total}**", f"**{core_total // 4}**"])
    verdict = (f"Goals: all <= 24,000 ({'met' if total <= 24000 else 'NOT met'}: {total}); core <= 8,000 "
               f"({'met' if core_total <= 8000 else 'NOT met'}: {core_total}).")
    return table(f"Context size of tools/list ({len(every)} tools)", ["tool", "characters", "~tokens"], rows) + \
        "\n" + verdict + "\n"


if __name__ == "__main__":
    print(anyio.run(main))
