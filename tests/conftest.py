"""Shared fixtures: the simulator in-process (ASGI) and clients wired to it. No mocks of the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx2
import pytest

from legnext_mcp.api import Clock, Job, LegnextClient
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp

#: Run by .ci/run on their own: the compat suite in an environment of its own with the frameworks
#: (tests/compat/conftest.py), the browser test with Chromium and Playwright (tests/browser/conftest.py).
collect_ignore = ["compat", "browser"]

FAST = 2000.0  # simulated seconds per real second: a 40 s job takes 20 ms


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=["auto", "legacy"])
def mode(request: pytest.FixtureRequest) -> str:
    """The MCP protocol era mcp.Client speaks: 2026-07-28 stateless ("auto") or 2025-11-25 ("legacy")."""
    return str(request.param)


@pytest.fixture
def sandbox() -> SandboxApp:
    return SandboxApp(Engine(time_scale=FAST, seed=7))


class RecordingClock(Clock):
    """A clock that records each requested delay (API seconds) and yields without waiting."""

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__(scale)
        self.delays: list[float] = []

    async def sleep(self, api_seconds: float) -> None:
        self.delays.append(api_seconds)
        await anyio.lowlevel.checkpoint()


def make_client(app: SandboxApp, *, key: str = DEFAULT_KEY, time_scale: float = FAST,
                clock: Clock | None = None) -> LegnextClient:
    transport = httpx2.ASGITransport(app)
    return LegnextClient(key, base_url="http://sandbox.test/api", transport=transport,
                         download_transport=transport, clock=clock or Clock(time_scale))


@pytest.fixture
async def client(sandbox: SandboxApp) -> AsyncIterator[LegnextClient]:
    async with make_client(sandbox) as c:
        yield c


async def finished(client: LegnextClient, job: Job) -> Job:
    """Wait (bounded) for a job the simulator will finish quickly."""
    return await client.wait(job.job_id, timeout=10, known=job)
