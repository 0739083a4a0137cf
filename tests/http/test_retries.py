"""Retry rules at the HTTP seam: reads recover; a job-creating POST is never sent twice when in doubt."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from legnext_mcp.api import DiffusionRequest, LegnextClient, SubmissionUncertainError
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, Fault, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from tests.support import FAST, RecordingClock, make_client

pytestmark = pytest.mark.anyio


@pytest.fixture
def loopback() -> Iterator[LoopbackSandbox[SandboxApp]]:
    with LoopbackSandbox(SandboxApp(Engine(time_scale=FAST))) as server:
        yield server


def _loopback_client(server: LoopbackSandbox[SandboxApp], read_timeout: float = 0.3) -> LegnextClient:
    return LegnextClient(DEFAULT_KEY, base_url=server.base_url, clock=RecordingClock(FAST),
                         timeout=httpx2.Timeout(5.0, read=read_timeout))


async def test_a_post_is_sent_exactly_once_when_the_read_times_out(loopback: LoopbackSandbox[SandboxApp]) -> None:
    loopback.app.engine.faults.add(Fault("slow", delay_s=1.0, method="POST", after_handling=True))
    async with _loopback_client(loopback) as client:
        with pytest.raises(SubmissionUncertainError, match="may exist"):
            await client.submit(DiffusionRequest(text="a fox"))
    assert loopback.app.stats.count("POST") == 1
    assert loopback.app.stats.max_identical_submissions() == 1
    assert len(loopback.app.engine.jobs) == 1  # it was created: exactly why it must not be re-sent


async def test_a_post_is_sent_once_when_the_connection_drops_mid_answer(loopback: LoopbackSandbox[SandboxApp]) -> None:
    loopback.app.engine.faults.add(Fault("drop", method="POST", after_handling=True))
    async with _loopback_client(loopback) as client:
        with pytest.raises(SubmissionUncertainError):
            await client.submit(DiffusionRequest(text="a fox"))
    assert loopback.app.stats.count("POST") == 1


async def test_a_read_survives_a_timeout_and_a_dropped_connection(loopback: LoopbackSandbox[SandboxApp]) -> None:
    loopback.app.engine.faults.add(Fault("slow", delay_s=1.0, method="GET"))
    loopback.app.engine.faults.add(Fault("drop", method="GET"))
    async with _loopback_client(loopback) as client:
        balance = await client.balance()
    assert balance.total_points > 0
    assert loopback.app.stats.count("GET") == 3


async def test_reads_recover_from_a_5xx_burst(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", count=3, status=503, method="GET"))
    clock = RecordingClock()
    async with make_client(sandbox, clock=clock) as client:
        balance = await client.balance()
    assert balance.total_points > 0
    assert sandbox.stats.count("GET") == 4 and len(clock.delays) == 3
    assert all(0 <= d <= 8 for d in clock.delays)


async def test_reads_honour_retry_after_on_429(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", status=429, retry_after=2.5, method="GET"))
    clock = RecordingClock()
    async with make_client(sandbox, clock=clock) as client:
        await client.balance()
    assert clock.delays == [2.5]


async def test_a_post_refused_with_429_is_retried_and_creates_one_job(sandbox: SandboxApp) -> None:
    sandbox.engine.faults.add(Fault("status", count=2, status=429, retry_after=1, method="POST"))
    clock = RecordingClock()
    async with make_client(sandbox, clock=clock) as client:
        job = await client.submit(DiffusionRequest(text="a fox"))
    assert job.job_id in sandbox.engine.jobs and len(sandbox.engine.jobs) == 1
    assert sandbox.stats.count("POST") == 3 and clock.delays == [1.0, 1.0]


async def test_a_post_whose_connection_was_refused_is_retried_then_reported() -> None:
    async with LegnextClient(DEFAULT_KEY, base_url="http://127.0.0.1:9/api", clock=RecordingClock()) as client:
        clock = client.clock
        assert isinstance(clock, RecordingClock)
        with pytest.raises(Exception, match="nothing was sent"):
            await client.submit(DiffusionRequest(text="a fox"))
    assert len(clock.delays) == 2  # MAX_POST_CONNECT_RETRIES
