"""Calls over Streamable HTTP, as agent frameworks and remote hosts make them: 1, 10, 50 and 200 concurrent
clients, each with its own session, making a cheap call; legnext-mcp (`--transport http`, estimate_cost, which
sends nothing upstream) against a bare one-tool MCPServer served by uvicorn in the same run. Then one GET of the
simulator (`legnext-mcp sandbox`'s server) against a bare Starlette route on uvicorn. Goal: latency <= 1.10x the
bare server at 1 client.

    python -m benchmarks.http_calls [calls per client]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp import Client

from benchmarks._common import MINIMAL, median, table
from legnext_mcp.sandbox import DEFAULT_KEY
from tests.team import free_port

CONCURRENCY = (1, 10, 50, 200)
#: The baseline of the simulator's GET: one Starlette route on uvicorn, in a process of its own.
BARE_API = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
app = Starlette(routes=[Route("/api/account/balance", lambda request: JSONResponse({"code": 200}))])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error")
"""


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


@contextmanager
def _uvicorn(app: Any, port: int) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def _process(command: list[str], port: int, ready: str) -> Iterator[None]:
    """A server in a process of its own (as a host runs it), ready when ``ready`` answers."""
    data = tempfile.mkdtemp(prefix="legnext-bench-")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")},
           "LEGNEXT_API_KEY": "bench-key-never-sent", "LEGNEXT_DATA_DIR": data, "LEGNEXT_OUTPUT_DIR": data}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, cwd=data)  # cwd: not this checkout
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx2.get(f"http://127.0.0.1:{port}{ready}", timeout=1)
                break
            except httpx2.HTTPError:
                time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _clients(url: str, clients: int, calls: int, tool: str, arguments: dict[str, Any]) -> tuple[float,
                                                                                                       list[float]]:
    latencies: list[float] = []

    async def one() -> None:
        async with Client(url) as client:
            await client.call_tool(tool, arguments)  # the session's first call: not measured
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool(tool, arguments)
                latencies.append(time.perf_counter() - started)
                assert not result.is_error, result.content

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(clients):
            group.start_soon(one)
    return len(latencies) / (time.perf_counter() - started), latencies


async def main(calls: int = 20) -> str:
    ours_port, bare_port = free_port(), free_port()
    rows: list[list[object]] = []
    estimate = {"tool": "generate_and_wait", "arguments": {"prompt": "a fox"}}
    # LEGNEXT_BENCH_PYTHON: another installation's interpreter (the same benchmark on an earlier version)
    python = os.environ.get("LEGNEXT_BENCH_PYTHON", sys.executable)
    ours_command = [python, "-m", "legnext_mcp.cli", "--transport", "http", "--port", str(ours_port)]
    bare_command = [sys.executable, str(MINIMAL), "--http", str(bare_port)]
    with _process(ours_command, ours_port, "/healthz"), _process(bare_command, bare_port, "/mcp"):
        for clients in CONCURRENCY:
            per = max(2, calls * 10 // clients) if clients > 1 else calls * 5
            ours_rate, ours = await _clients(f"http://127.0.0.1:{ours_port}/mcp", clients, per, "estimate_cost",
                                             estimate)
            bare_rate, bare = await _clients(f"http://127.0.0.1:{bare_port}/mcp", clients, per, "echo",
                                             {"text": "hi"})
            goal = (f"<= 1.10 {'met' if median(ours) / median(bare) <= 1.10 else 'NOT met'}" if clients == 1 else "")
            rows.append([clients, f"{ours_rate:.0f} / {bare_rate:.0f}",
                         f"{median(ours) * 1000:.1f} / {median(bare) * 1000:.1f} ms",
                         f"{_p99(ours) * 1000:.1f} / {_p99(bare) * 1000:.1f} ms",
                         f"{median(ours) / median(bare):.2f}", goal])
    calls_table = table("Streamable HTTP: a cheap call per client session (legnext-mcp estimate_cost / bare MCPServer "
                        "echo, uvicorn, loopback)",
                        ["clients", "calls/s", "p50", "p99", "p50 ratio", "goal"], rows)

    sim_port, api_port = free_port(), free_port()
    sim_command = [python, "-m", "legnext_mcp.cli", "sandbox", "--port", str(sim_port)]
    bare_api = [sys.executable, "-c", BARE_API, str(api_port)]
    get_rows: list[list[object]] = []
    with _process(sim_command, sim_port, "/api/account/balance"), _process(bare_api, api_port, "/api/account/balance"):
        for name, port, headers in (("simulator (legnext-mcp sandbox)", sim_port, {"x-api-key": DEFAULT_KEY}),
                                    ("bare Starlette route", api_port, {})):
            url = f"http://127.0.0.1:{port}/api/account/balance"
            async with httpx2.AsyncClient() as client:
                await client.get(url, headers=headers)
                times = []
                for _ in range(200):
                    started = time.perf_counter()
                    (await client.get(url, headers=headers)).raise_for_status()
                    times.append(time.perf_counter() - started)
            get_rows.append([name, f"{median(times) * 1000:.2f} ms", f"{_p99(times) * 1000:.2f} ms"])
    gets = table("One GET over a kept-alive connection (200 GETs)", ["server", "p50", "p99"], get_rows)
    return calls_table + "\n" + gets


if __name__ == "__main__":
    print(anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 20))
