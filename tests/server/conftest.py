"""An MCP server wired to the in-process simulator, connected with mcp.Client in both protocol modes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server import MCPServer

from legnext_mcp.sandbox import Engine, SandboxApp
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings
from tests.conftest import FAST, make_client


@dataclass
class Harness:
    sandbox: SandboxApp
    settings: Settings
    server: MCPServer[Any]
    client: Client

    async def call(self, tool: str, arguments: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return await self.client.call_tool(tool, arguments or {}, **kwargs)

    async def finished(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Submit with a job tool, then wait with wait_for_job (job tools return at once); the job's result."""
        submitted = await self.call(tool, arguments)
        assert not submitted.is_error, submitted.content[0].text
        waited = await self.call("wait_for_job", {"job_ids": [submitted.structured_content["job_id"]]})
        assert not waited.is_error, waited.content[0].text
        job: dict[str, Any] = waited.structured_content["jobs"][0]
        return job


def harness_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(api_key=None, data_dir=tmp_path / "data", output_dir=tmp_path / "out", sandbox=True,
                    soft_deadline_s=10)
    return replace(base, **overrides)


@asynccontextmanager
async def server_harness(tmp_path: Path, mode: str, elicit: Callable[..., Any] | None = None, *, seed: int = 3,
                         speed: float = FAST, **overrides: Any) -> AsyncIterator[Harness]:
    """A server on a fresh in-process simulator running ``speed`` times faster than real time, with settings
    ``overrides`` (soft deadline, budget...)."""
    sandbox = SandboxApp(Engine(time_scale=speed, seed=seed))
    settings = harness_settings(tmp_path, **overrides)
    async with make_client(sandbox, time_scale=speed) as api:
        server = build_server(settings, client=api)
        async with Client(server, mode=mode, elicitation_callback=elicit) as client:
            yield Harness(sandbox, settings, server, client)


@pytest.fixture
async def harness(tmp_path: Path, mode: str) -> AsyncIterator[Harness]:
    async with server_harness(tmp_path, mode) as h:
        yield h
