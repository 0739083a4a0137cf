"""Sessions over Streamable HTTP: what each open session costs a `legnext-mcp --transport http` process (memory,
and CPU while idle), to choose LEGNEXT_HTTP_MAX_SESSIONS and LEGNEXT_HTTP_SESSION_IDLE_S from measurement.

    python -m benchmarks.sessions [sessions ...]

Each session initializes and makes one call (get_balance, on the sandbox), then stays open while the server's
memory (VmRSS) and its CPU over a quiet second are read. A legacy client (2025-11-25: a session the server
keeps) and a 2026-07-28 client (no server state between requests) are both measured.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
from mcp import Client

from benchmarks._common import memory_kib, table
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.team import free_port, replicas


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _measure(count: int, era: str) -> list[object]:
    with tempfile.TemporaryDirectory() as tmp, LoopbackSandbox(SandboxApp(Engine())) as sim:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        env.update(LEGNEXT_DATA_DIR=str(Path(tmp) / "data"), LEGNEXT_OUTPUT_DIR=str(Path(tmp) / "out"),
                   LEGNEXT_HTTP_MAX_SESSIONS=str(count + 10), LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT=str(count + 10),
                   LEGNEXT_API_KEY=DEFAULT_KEY,
                   LEGNEXT_BASE_URL=sim.base_url, LEGNEXT_TIME_SCALE="1")
        with replicas([env], ports=[port]) as (processes, _):
            pid = processes[0].pid
            url = f"http://127.0.0.1:{port}/mcp"
            async with Client(url) as warm:  # the back built, the sandbox answering: what every server pays
                await warm.call_tool("get_balance", {})
            before = memory_kib(pid)
            async with AsyncExitStack() as stack:
                for _ in range(count):
                    client = await stack.enter_async_context(Client(url, mode="legacy" if era == "legacy" else "auto"))
                    await client.call_tool("get_balance", {})
                held = memory_kib(pid)
                cpu = _cpu_seconds(pid)
                start = time.monotonic()
                await anyio.sleep(1.0)
                idle = (_cpu_seconds(pid) - cpu) / (time.monotonic() - start)
    return [era, count, f"{(held - before) / count:.1f} KiB", f"{held / 1024:.0f} MiB", f"{idle * 100:.1f} %"]


async def main(*counts: int) -> str:
    rows = [await _measure(count, era) for count in (counts or (100, 500)) for era in ("legacy", "2026-07-28")]
    return table("Open sessions over Streamable HTTP (one legnext-mcp process)",
                 ["client", "sessions", "memory per session", "process memory", "CPU while idle"], rows)


if __name__ == "__main__":
    print(anyio.run(main, *(int(a) for a in sys.argv[1:])))
