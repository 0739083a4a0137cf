"""Fan-out: N generate_and_wait calls at once through one real stdio server (``legnext-mcp --sandbox``),
the simulator running at most 6 jobs at a time with the rest queued. Reports total time against the
ideal (ceil(N/6) waves of one job time), GETs, errors (goal 0) and the server's peak RSS.

Also the load check of the reliability suite: ``python -m benchmarks.fanout 50``.
"""

from __future__ import annotations

import math
import os
import sys
import time

import anyio
import httpx2
from mcp import Client

from benchmarks._common import children_of, legnext_params, memory_kib, table

TIME_SCALE = 40.0
IMAGE_JOB_S = 40.0 + 2.0  # the simulator's image job (40 s) plus its staged step, in simulated seconds


async def main(calls: int = 24) -> str:
    before = set(children_of(os.getpid()))
    params = legnext_params("--sandbox", "--time-scale", str(TIME_SCALE),
                            env={"LEGNEXT_WAIT_SOFT_DEADLINE_S": "600"})
    errors: list[str] = []
    urls: list[str] = []
    async with Client(params) as client:
        (pid,) = set(children_of(os.getpid())) - before

        async def one(n: int) -> None:
            result = await client.call_tool("generate_and_wait", {"prompt": f"fan-out job {n} --ar 3:2"})
            data = result.structured_content or {}
            if result.is_error or data.get("status") != "completed":
                errors.append(result.content[0].text if result.content else "no content")  # type: ignore[union-attr]
            else:
                urls.append(str(data["image_urls"][0]))

        start = time.perf_counter()
        async with anyio.create_task_group() as group:
            for n in range(calls):
                group.start_soon(one, n)
        total = time.perf_counter() - start
        peak = memory_kib(pid, "VmHWM")
        stats = {}
        if urls:  # the simulator's own counters, from the image URLs' origin
            origin = urls[0].split("/cdn/", 1)[0]
            async with httpx2.AsyncClient() as http:
                stats = (await http.get(f"{origin}/_sandbox/stats")).json()
    ideal = math.ceil(calls / 6) * IMAGE_JOB_S / TIME_SCALE
    gets = stats.get("gets", 0)
    return table(f"Fan-out: {calls} generate_and_wait at once over one stdio server (simulator x{TIME_SCALE:g}, "
                 "6 concurrent jobs)",
                 ["calls", "total", "ideal (waves x job time)", "total / ideal", "GETs", "GETs per job", "errors",
                  "POSTs", "peak server RSS"],
                 [[calls, f"{total:.2f} s", f"{ideal:.2f} s", f"{total / ideal:.2f}", gets,
                   f"{gets / calls:.1f}", len(errors), stats.get("posts", "?"), f"{peak / 1024:.1f} MiB"]])


if __name__ == "__main__":
    print(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 24))
