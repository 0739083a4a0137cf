"""The reliability suite's seam: an MCP server (mcp.Client in memory) over a real loopback socket to the
simulator, so timeouts and dropped connections behave as on a network, and an audit of what the
simulator created against what the server recorded."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from legnext_mcp.api import Clock, LegnextClient
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from legnext_mcp.settings import Settings
from tests.conftest import FAST
from tests.server.conftest import Harness, harness_settings

#: The client's read timeout on loopback: a "slow" fault answers after a second, well past it.
READ_TIMEOUT_S = 0.3


class FlakyConnect(httpx2.AsyncBaseTransport):
    """A real HTTP transport whose first ``failures`` connections are refused (the request never left)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.refused = 0
        self._inner = httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.refused < self.failures:
            self.refused += 1
            raise httpx2.ConnectError("connection refused (injected)", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class LoopbackHarness(Harness):
    loopback: LoopbackSandbox[SandboxApp]


@asynccontextmanager
async def loopback_harness(tmp_path: Path, *, mode: str = "auto", key: str = DEFAULT_KEY,
                           transport: httpx2.AsyncBaseTransport | None = None, engine: Engine | None = None,
                           **overrides: Any) -> AsyncIterator[LoopbackHarness]:
    """A server whose client talks to the simulator over 127.0.0.1 with a short read timeout."""
    sandbox = SandboxApp(engine or Engine(keys={key: 100_000}, time_scale=FAST, seed=5))
    settings = harness_settings(tmp_path, **overrides)
    with LoopbackSandbox(sandbox) as loop:
        api = LegnextClient(key, base_url=loop.base_url, clock=Clock(FAST), transport=transport,
                            timeout=httpx2.Timeout(5.0, read=READ_TIMEOUT_S))
        async with api:
            server = build_server(settings, client=api)
            async with Client(server, mode=mode) as client:
                yield LoopbackHarness(sandbox, settings, server, client, loop)


@dataclass(frozen=True)
class Audit:
    """What the simulator created against what the ledger knows."""

    created: int  # jobs the simulator created (each one paid unless it failed)
    recorded: int  # of those, how many the ledger has by id
    uncertain: int  # of those, how many the ledger has as an uncertain submission (id never reached us)
    lost: int  # created, and neither recorded nor kept as uncertain
    max_identical: int  # most jobs the simulator created from one identical request body


def audit(sandbox: SandboxApp, settings: Settings) -> Audit:
    db = sqlite3.connect(settings.ledger_path)
    try:
        ids = {row[0] for row in db.execute("SELECT job_id FROM jobs")}
        unsure = [json.loads(row[0])
                  for row in db.execute("SELECT request_json FROM intents WHERE state = 'uncertain'")]
    finally:
        db.close()
    recorded = uncertain = lost = 0
    for job in sandbox.engine.jobs.values():
        if job.job_id in ids:
            recorded += 1
        elif job.body in unsure:
            unsure.remove(job.body)
            uncertain += 1
        else:
            lost += 1
    return Audit(created=len(sandbox.engine.jobs), recorded=recorded, uncertain=uncertain, lost=lost,
                 max_identical=sandbox.stats.max_identical_submissions())


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def crashed(result: Any) -> bool:
    """A tool that raised something other than ToolError: the model sees only 'Error executing tool X'."""
    return bool(re.fullmatch(r"Error executing tool [\w-]+\.?", text_of(result).strip()))


def stdio_server(api: LoopbackSandbox[SandboxApp], home: Path, *, key: str = DEFAULT_KEY, time_scale: float = 400.0,
                 **env: str) -> StdioServerParameters:
    """``legnext-mcp`` as a host spawns it, on the simulator at ``api`` (it outlives the process)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("LEGNEXT_")}
    base.update(LEGNEXT_API_KEY=key, LEGNEXT_BASE_URL=api.base_url, LEGNEXT_TIME_SCALE=str(time_scale),
                LEGNEXT_WAIT_SOFT_DEADLINE_S="600", LEGNEXT_DATA_DIR=str(home / "data"),
                LEGNEXT_OUTPUT_DIR=str(home / "out"), **env)
    return StdioServerParameters(command=sys.executable, args=["-m", "legnext_mcp.cli"], env=base)
