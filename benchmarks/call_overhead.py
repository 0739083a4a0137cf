"""Call overhead: get_job through the in-memory MCP client (both protocol modes) against the same
GET /v1/job/{id} made directly with httpx2, both on the in-process simulator (ASGI transport).
Reports the added milliseconds per call (median, p95) and the ratio."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import anyio
import httpx2
from mcp import Client

from benchmarks._common import median, p95, table
from legnext_mcp.api import Clock, DiffusionRequest, LegnextClient
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings


async def main(calls: int = 300) -> str:
    app = SandboxApp(Engine(time_scale=2000, seed=1))
    transport = httpx2.ASGITransport(app)
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory() as data:
        settings = Settings(api_key=None, sandbox=True, data_dir=Path(data), output_dir=Path(data))
        async with LegnextClient(DEFAULT_KEY, base_url="http://sim/api", transport=transport,
                                 download_transport=transport, clock=Clock(2000)) as api:
            job = await api.submit(DiffusionRequest(text="a fox"))
            async with httpx2.AsyncClient(transport=transport, base_url="http://sim/api/") as raw:
                direct = []
                for _ in range(calls):
                    start = time.perf_counter()
                    (await raw.get(f"v1/job/{job.job_id}", headers={"x-api-key": DEFAULT_KEY})).json()
                    direct.append(time.perf_counter() - start)
            for mode in ("legacy", "auto"):
                async with Client(build_server(settings, dialect=LegnextDialect(api)), mode=mode) as client:
                    through = []
                    for _ in range(calls):
                        start = time.perf_counter()
                        result = await client.call_tool("get_job", {"job_id": job.job_id})
                        through.append(time.perf_counter() - start)
                        assert not result.is_error
                added = [t - median(direct) for t in through]
                rows.append([f"get_job via mcp.Client ({mode})", f"{median(through) * 1000:.2f}",
                             f"{p95(through) * 1000:.2f}", f"{median(added) * 1000:.2f} / {p95(added) * 1000:.2f}",
                             f"{median(through) / median(direct):.1f}x"])
    rows.insert(0, ["GET with httpx2 directly", f"{median(direct) * 1000:.2f}", f"{p95(direct) * 1000:.2f}", "-",
                    "1.0x"])
    return table(f"Call overhead ({calls} calls each, in-process simulator)",
                 ["path", "median ms", "p95 ms", "added ms median / p95", "ratio"], rows)


if __name__ == "__main__":
    print(anyio.run(main))
