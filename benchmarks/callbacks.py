"""Callbacks against polling, for real: a `legnext-mcp --transport http` process, the Legnext simulator on
loopback calling it back at LEGNEXT_PUBLIC_URL when each job ends, and clients running `generate_and_wait` over
Streamable HTTP on the typical image mix (v7 images, 30-80 s; v8/turbo/draft, 8-20 s). The same load runs
without LEGNEXT_PUBLIC_URL (polling only) in the same run, as the baseline.

    python -m benchmarks.callbacks [jobs] [speed]

GETs per job: the simulator's own count of job reads, divided by the jobs. Detection lag: from the moment the
simulator finishes a job to the moment the client holds its completed result. The simulator runs ``speed``
times faster than the API, and the server's poll schedule with it, so polling's lag is shown in API seconds
(measured x speed); a callback's path (a POST, one GET, the answer) is real time on loopback and is shown as
measured (against the real API, add its own latency for one GET); the part from the moment the simulator starts
its POST is shown apart (the simulator's own start of a thread and a client per callback comes before it).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

from benchmarks._common import median, p95, table
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import text_of
from tests.team import free_port, replicas

#: The typical image mix (benchmarks/polling.py's shares of the image classes).
PROMPTS = ["a lighthouse at dusk --v 7"] * 10 + ["a lighthouse at dusk --v 8.1"] * 3


async def _run(jobs: int, speed: float, *, callbacks: bool) -> dict[str, Any]:
    engine = Engine(keys={DEFAULT_KEY: 10**7}, time_scale=speed, seed=11)
    engine.accounts[DEFAULT_KEY].slots = [0.0] * jobs  # every job runs at once: no queue in the figures
    with LoopbackSandbox(SandboxApp(engine)) as sim, tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        env.update(LEGNEXT_API_KEY=DEFAULT_KEY, LEGNEXT_BASE_URL=sim.base_url, LEGNEXT_TIME_SCALE=str(speed),
                   LEGNEXT_DATA_DIR=str(Path(tmp) / "data"), LEGNEXT_OUTPUT_DIR=str(Path(tmp) / "out"),
                   LEGNEXT_WAIT_SOFT_DEADLINE_S="600")
        if callbacks:
            env["LEGNEXT_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        lags: list[float] = []
        ours: list[float] = []  # from the moment the simulator starts sending the callback
        with replicas([env], ports=[port]):
            async def one(n: int) -> None:
                async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                    result = await client.call_tool("generate_and_wait", {"prompt": PROMPTS[n % len(PROMPTS)],
                                                                           "include_preview": False})
                    held = time.monotonic()
                    assert result.structured_content["status"] == "completed", text_of(result)
                    job = engine.jobs[result.structured_content["job_id"]]
                    lags.append(held - engine.clock.real_moment(job.finish_at))
                    if job.callback in engine.callbacks.started:
                        ours.append(held - engine.callbacks.started[job.callback])

            async with anyio.create_task_group() as group:
                for n in range(jobs):
                    group.start_soon(one, n)
        gets = sim.app.stats.count("GET", "/api/v1/job/")
        delivered = len(engine.callbacks.sent)
    return {"gets": gets / jobs, "lags": lags, "ours": ours, "delivered": delivered}


async def main(jobs: int = 40, speed: float = 20.0) -> str:
    polled = await _run(jobs, speed, callbacks=False)
    called = await _run(jobs, speed, callbacks=True)
    rows = [
        ["polling only (baseline)", f"{polled['gets']:.2f}", f"{median(polled['lags']) * speed:.2f} API s",
         f"{p95(polled['lags']) * speed:.2f} API s", "-", "-"],
        ["callbacks (LEGNEXT_PUBLIC_URL)", f"{called['gets']:.2f}", f"{median(called['lags']):.3f} s",
         f"{p95(called['lags']):.3f} s", f"{median(called['ours']):.3f} / {p95(called['ours']):.3f} s",
         f"{called['delivered']} of {jobs}"],
    ]
    goal_gets = called["gets"] <= 1.2
    goal_lag = p95(called["lags"]) <= 0.5
    return table(f"Callbacks: {jobs} generate_and_wait over HTTP, the image mix, simulator at {speed:g}x",
                 ["mode", "GETs per job", "lag p50", "lag p95", "from the callback's POST p50 / p95",
                  "callbacks delivered"], rows) + (
        f"\nGoal <= 1.2 GETs per job: {'met' if goal_gets else 'not met'}; goal lag <= 0.5 s: "
        f"{'met' if goal_lag else 'not met'}.\n")


if __name__ == "__main__":
    jobs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    speed = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    print(anyio.run(main, jobs, speed))
