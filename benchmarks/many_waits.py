"""Many waits in one process: N concurrent `generate_and_wait` calls on one server (in memory, the simulator
in-process with room to run every job at once), against the ideal (every job submitted at once and seen the
moment it ends: one job's time). Reports how late the last one is, errors (goal 0), the CPU the process used,
GETs and progress notifications per job. Goal (issue 28): 1,000 waits <= +1 s late.

    python -m benchmarks.many_waits [waits ...]
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client

from benchmarks._common import table
from legnext_mcp.api import LegnextClient
from legnext_mcp.core.clock import Clock
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings
from tests.support import text_of
from tests.team import free_port, replicas

SPEED = 10.0
JOB_S = (40.0 + 2.0) / SPEED  # the simulator's image job and its staged step, in real seconds


async def _run(waits: int) -> list[object]:
    engine = Engine(keys={DEFAULT_KEY: 10**8}, time_scale=SPEED, seed=3)
    engine.accounts[DEFAULT_KEY].slots = [0.0] * waits  # every job runs at once: the server is measured, not a queue
    app = SandboxApp(engine)
    errors: list[str] = []
    notes = [0]

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        notes[0] += 1

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(api_key=DEFAULT_KEY, data_dir=Path(tmp), output_dir=Path(tmp), soft_deadline_s=600,
                            time_scale=SPEED)
        transport = httpx2.ASGITransport(app)
        async with LegnextClient(DEFAULT_KEY, base_url="http://sandbox.test/api", transport=transport,
                                 download_transport=transport, clock=Clock(SPEED)) as api:
            server = build_server(settings, dialect=LegnextDialect(api))
            async with Client(server) as client:
                await client.call_tool("get_balance", {})  # warm: the first call builds the back

                async def one(n: int) -> None:
                    result: Any = await client.call_tool("generate_and_wait", {"prompt": f"a fox number {n}"},
                                                         progress_callback=progress)
                    if result.is_error or (result.structured_content or {}).get("status") != "completed":
                        errors.append(text_of(result) or "no content")

                cpu = resource.getrusage(resource.RUSAGE_SELF)
                start = time.perf_counter()
                async with anyio.create_task_group() as group:
                    for n in range(waits):
                        group.start_soon(one, n)
                total = time.perf_counter() - start
                used = resource.getrusage(resource.RUSAGE_SELF)
    cores = (used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime) / total
    gets = app.stats.count("GET", "/api/v1/job/")
    return [waits, f"{total:.2f} s", f"{JOB_S:.2f} s", f"{total - JOB_S:+.2f} s", len(errors), f"{cores:.2f}",
            f"{gets / waits:.1f}", f"{notes[0] / waits:.1f}"]


async def _server_cpu(waits: int) -> list[object]:
    """The server's own CPU per generate_and_wait: a real `--transport http` process, the simulator and the
    clients in this one (so neither is counted)."""
    engine = Engine(keys={DEFAULT_KEY: 10**8}, time_scale=SPEED, seed=3)
    engine.accounts[DEFAULT_KEY].slots = [0.0] * waits
    with tempfile.TemporaryDirectory() as tmp, LoopbackSandbox(SandboxApp(engine)) as sim:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        env.update(LEGNEXT_API_KEY=DEFAULT_KEY, LEGNEXT_BASE_URL=sim.base_url, LEGNEXT_TIME_SCALE=str(SPEED),
                   LEGNEXT_DATA_DIR=str(Path(tmp) / "d"), LEGNEXT_OUTPUT_DIR=str(Path(tmp) / "o"),
                   LEGNEXT_WAIT_SOFT_DEADLINE_S="600")
        with replicas([env], ports=[port]) as (processes, _):
            url = f"http://127.0.0.1:{port}/mcp"
            async with Client(url) as client:
                await client.call_tool("get_balance", {})
                before = _cpu(processes[0].pid)
                start = time.perf_counter()
                async with anyio.create_task_group() as group:
                    for n in range(waits):
                        group.start_soon(client.call_tool, "generate_and_wait",
                                         {"prompt": f"a fox number {n}", "include_preview": False})
                total = time.perf_counter() - start
                used = _cpu(processes[0].pid) - before
    return [waits, f"{total:.2f} s", f"{used:.2f} s", f"{used / waits * 1000:.2f} ms"]


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main(*sizes: int) -> str:
    rows = [await _run(waits) for waits in (sizes or (10, 1000))]
    cpu = [await _server_cpu(min(waits, 200)) for waits in (sizes or (10, 1000))[-1:]]  # one client: its pool
    return table("Many waits in one process (in memory, simulator in-process)",
                 ["waits", "all done in", "ideal", "late", "errors", "cores used", "GETs per job",
                  "progress notes per job"], rows) + "\n" + table(
        "The server's own CPU per generate_and_wait (HTTP; clients and simulator in another process)",
        ["waits", "all done in", "server CPU", "per call"], cpu)


if __name__ == "__main__":
    print(anyio.run(main, *(int(a) for a in sys.argv[1:])))
