"""Fan-out: N generate_and_wait calls at once through one real stdio server, the simulator (hosted here on
a loopback port, so its counters can be read) running at most 6 jobs at a time with the rest queued.
Reports total time against the ideal (ceil(N/6) waves of one job time), GETs, errors (goal 0), the
server's peak RSS and peak open connections to the API, and what the ledger holds afterwards.

Also the load figures of the reliability suite: ``python -m benchmarks.fanout 50``.
"""

from __future__ import annotations

import math
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from benchmarks._common import children_of, memory_kib, table
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox

TIME_SCALE = 40.0
IMAGE_JOB_S = 40.0 + 2.0  # the simulator's image job (40 s) plus its staged step, in simulated seconds


def completed_in_ledger(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'completed'").fetchone()[0])
    finally:
        db.close()


async def main(calls: int = 24) -> str:
    before = set(children_of(os.getpid()))
    sandbox = SandboxApp(Engine(time_scale=TIME_SCALE))
    data = Path(tempfile.mkdtemp(prefix="legnext-bench-"))
    errors: list[str] = []
    with LoopbackSandbox(sandbox) as loop:
        env = {**os.environ, "LEGNEXT_API_KEY": DEFAULT_KEY, "LEGNEXT_BASE_URL": loop.base_url,
               "LEGNEXT_TIME_SCALE": str(TIME_SCALE), "LEGNEXT_WAIT_SOFT_DEADLINE_S": "600",
               "LEGNEXT_DATA_DIR": str(data), "LEGNEXT_OUTPUT_DIR": str(data)}
        params = StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli"], env=env)
        async with Client(params) as client:
            (pid,) = set(children_of(os.getpid())) - before

            async def one(n: int) -> None:
                result = await client.call_tool("generate_and_wait", {"prompt": f"fan-out job {n} --ar 3:2"})
                data = result.structured_content or {}
                if result.is_error or data.get("status") != "completed":
                    errors.append(result.content[0].text if result.content else "no content")  # type: ignore[union-attr]

            start = time.perf_counter()
            async with anyio.create_task_group() as group:
                for n in range(calls):
                    group.start_soon(one, n)
            total = time.perf_counter() - start
            peak = memory_kib(pid, "VmHWM")
        connections = loop.peak_connections
    ideal = math.ceil(calls / 6) * IMAGE_JOB_S / TIME_SCALE
    stats = sandbox.stats
    gets, posts = stats.count("GET", "/api/"), stats.count("POST", "/api/v1/")
    completed = completed_in_ledger(data / "ledger.sqlite3")
    lost = len(sandbox.engine.jobs) - completed
    return table(f"Fan-out: {calls} generate_and_wait at once over one stdio server (simulator x{TIME_SCALE:g}, "
                 "6 concurrent jobs)",
                 ["calls", "total", "ideal (waves x job time)", "total / ideal", "GETs per job", "errors", "POSTs",
                  "most jobs from one request", "completed in ledger", "jobs lost", "peak connections",
                  "peak server RSS"],
                 [[calls, f"{total:.2f} s", f"{ideal:.2f} s", f"{total / ideal:.2f}", f"{gets / calls:.1f}",
                   len(errors), posts, stats.max_identical_submissions(), completed, lost, connections,
                   f"{peak / 1024:.1f} MiB"]])


if __name__ == "__main__":
    print(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 24))
