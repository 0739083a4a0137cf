"""Memory: resident set size of an idle server after answering tools/list, legnext-mcp against a
minimal one-tool MCPServer (both over stdio). Goal: ratio <= 1.15."""

from __future__ import annotations

import os

import anyio
from mcp import Client, StdioServerParameters

from benchmarks._common import children_of, legnext_params, median, memory_kib, minimal_params, table


async def idle_rss_kib(params: StdioServerParameters) -> int:
    before = set(children_of(os.getpid()))
    async with Client(params) as client:
        await client.list_tools()
        await anyio.sleep(0.3)
        (pid,) = set(children_of(os.getpid())) - before
        return memory_kib(pid)


async def main(runs: int = 3) -> str:
    ours = [await idle_rss_kib(legnext_params()) for _ in range(runs)]
    base = [await idle_rss_kib(minimal_params()) for _ in range(runs)]
    sandbox = [await idle_rss_kib(legnext_params("--sandbox")) for _ in range(runs)]
    ratio = median(ours) / median(base)
    return table(f"Memory: RSS of an idle server after tools/list (median of {runs})",
                 ["server", "RSS", "ratio to minimal", "goal"],
                 [["minimal MCPServer", f"{median(base) / 1024:.1f} MiB", "1.00", ""],
                  ["legnext-mcp", f"{median(ours) / 1024:.1f} MiB", f"{ratio:.2f}",
                   "<= 1.15 " + ("met" if ratio <= 1.15 else "NOT met")],
                  ["legnext-mcp --sandbox (simulator in-process)", f"{median(sandbox) / 1024:.1f} MiB",
                   f"{median(sandbox) / median(base):.2f}", "(not a goal)"]])


if __name__ == "__main__":
    print(anyio.run(main))
