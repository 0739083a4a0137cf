"""Callbacks for real: the Legnext simulator on loopback calls back a `legnext-mcp --transport http` process at
its LEGNEXT_PUBLIC_URL when each job ends; the server answers 200 and the capability dies with the job, so a
replay reads nothing; a forged one is answered alike and reads nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx2
import pytest
from mcp import Client

from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.team import free_port, replicas

pytestmark = pytest.mark.anyio
SPEED = 400.0  # a 40 s image job takes 0.1 s


async def test_the_api_calls_back_a_real_server_and_replays_read_nothing(tmp_path: Path) -> None:
    engine = Engine(keys={DEFAULT_KEY: 10**6}, time_scale=SPEED)
    with LoopbackSandbox(SandboxApp(engine)) as sim:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
        env.update(LEGNEXT_API_KEY=DEFAULT_KEY, LEGNEXT_BASE_URL=sim.base_url, LEGNEXT_TIME_SCALE=str(SPEED),
                   LEGNEXT_DATA_DIR=str(tmp_path / "data"), LEGNEXT_OUTPUT_DIR=str(tmp_path / "out"),
                   LEGNEXT_PUBLIC_URL=public)
        with replicas([env], ports=[port]):
            async with Client(f"{public}/mcp") as client:
                for n in range(3):
                    made = await client.call_tool("generate_and_wait", {"prompt": f"a lighthouse {n}"})
                    assert made.structured_content["status"] == "completed"
            delivered = _delivered(engine, 3)
            assert len(delivered) == 3 and {status for _, status in delivered} == {200}
            assert all(url.startswith(f"{public}/callbacks/") for url, _ in delivered)
            gets = sim.app.stats.count("GET")
            with httpx2.Client() as http:
                for url, _ in delivered:  # replayed after the jobs ended
                    assert http.post(url, json={"timestamp": 1, "data": {"job_id": "x"}}).status_code == 200
                forged = http.post(f"{public}/callbacks/{'A' * 43}", json={})
                assert (forged.status_code, forged.json()) == (200, {"status": "ok"})
            assert sim.app.stats.count("GET") == gets  # none of them read anything


def _delivered(engine: Engine, count: int) -> list[tuple[str, int]]:
    """The callbacks the simulator sent, once ``count`` have been (each is sent from a thread of its own, which
    may still be on its way when the wait it woke has returned). Bounded, not timed."""
    deadline = time.monotonic() + 30
    while len(engine.callbacks.sent) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(engine.callbacks.sent)
