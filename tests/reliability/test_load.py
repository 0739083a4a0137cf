"""Scenario 2: 50 generate_and_wait calls at once through one server, the simulator running 6 jobs at a
time per key and queueing the rest: all finish, none errs, the ledger has every job completed, each
request body made one job, and the server held a bounded number of connections to the API.

Run in-memory (mcp.Client, both protocol eras) and through one real stdio process. ``LEGNEXT_LOAD_N``
changes N (the benchmark ``python -m benchmarks.fanout 50`` measures the same fan-out with timings).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from legnext_mcp.core.policy import MAX_CONNECTIONS
from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.sandbox.legnext.engine import MAX_CONCURRENT
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import audit, loopback_harness, stdio_server, text_of

pytestmark = pytest.mark.anyio
N = int(os.environ.get("LEGNEXT_LOAD_N", "50"))
STDIO_SCALE = 400.0  # a 40 s image job takes 0.1 s


async def fan_out(client: Client) -> list[Any]:
    results: list[Any] = [None] * N

    async def one(n: int) -> None:
        results[n] = await client.call_tool("generate_and_wait", {"prompt": f"load test job {n} --ar 3:2"})

    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            for n in range(N):
                group.start_soon(one, n)
    return results


def completed_rows(ledger: Path) -> int:
    db = sqlite3.connect(ledger)
    try:
        return int(db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'completed'").fetchone()[0])
    finally:
        db.close()


def check(results: list[Any], sandbox: SandboxApp, ledger: Path, peak_connections: int) -> None:
    errors = [text_of(r) for r in results if r.is_error or r.structured_content["status"] != "completed"]
    assert errors == []
    assert len({r.structured_content["job_id"] for r in results}) == N
    assert completed_rows(ledger) == N
    assert sandbox.stats.count("POST", "/api/v1/") == N and sandbox.stats.max_identical_submissions() == 1
    # the simulator queued what did not fit in its 6 slots
    assert N <= MAX_CONCURRENT or max(job.slot_at for job in sandbox.engine.jobs.values()) > 0
    assert 0 < peak_connections <= MAX_CONNECTIONS


async def test_fifty_concurrent_waits_in_memory_all_finish(tmp_path: Path, mode: str) -> None:
    async with loopback_harness(tmp_path, mode=mode, soft_deadline_s=60) as h:
        results = await fan_out(h.client)
        found = audit(h.sandbox, h.settings)
    check(results, h.sandbox, h.settings.ledger_path, h.loopback.peak_connections)
    assert (found.created, found.recorded, found.lost) == (N, N, 0)


async def test_fifty_concurrent_waits_through_a_stdio_process_all_finish(tmp_path: Path) -> None:
    sandbox = SandboxApp(Engine(time_scale=STDIO_SCALE, seed=11))
    with LoopbackSandbox(sandbox) as loop:
        params = stdio_server(loop, tmp_path, time_scale=STDIO_SCALE)
        async with Client(params) as client:
            results = await fan_out(client)
    check(results, sandbox, tmp_path / "data" / "ledger.sqlite3", loop.peak_connections)
