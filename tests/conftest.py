"""Shared fixtures: the simulator in-process (ASGI) and clients wired to it. No mocks of the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx2
import pytest

from legnext_mcp.api import Job, LegnextClient
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp

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


class RecordingSleep:
    """Injected in place of anyio.sleep: records each requested delay, yields without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        import anyio

        self.delays.append(seconds)
        await anyio.lowlevel.checkpoint()


def make_client(app: SandboxApp, *, key: str = DEFAULT_KEY, time_scale: float = FAST,
                sleep: Callable[[float], Awaitable[None]] | None = None) -> LegnextClient:
    transport = httpx2.ASGITransport(app)
    kwargs = {} if sleep is None else {"sleep": sleep}
    return LegnextClient(key, base_url="http://sandbox.test/api", transport=transport,
                         download_transport=transport, time_scale=time_scale, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def client(sandbox: SandboxApp) -> AsyncIterator[LegnextClient]:
    async with make_client(sandbox) as c:
        yield c


async def finished(client: LegnextClient, job: Job) -> Job:
    """Wait (bounded) for a job the simulator will finish quickly."""
    return await client.wait(job.job_id, timeout=10, known=job)
