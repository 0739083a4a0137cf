"""What the tests share: the simulator wired to a client or an MCP server (in memory, over loopback, or as a
host spawns it), and an audit of what the simulator created against what the ledger knows. No mocks of the
HTTP client: every seam is real (``httpx2.ASGITransport``, a loopback socket, a subprocess).

Fixtures are in the ``conftest.py`` files; shared data (tool arguments, prompt rules) in ``cases.py``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.server import MCPServer

from legnext_mcp.api import Clock, LegnextClient, LegnextJob
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect
from legnext_mcp.sandbox import DEFAULT_KEY, Engine, SandboxApp
from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY as MJ_PROXY_KEY
from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.server import build_server
from legnext_mcp.server.front import LegnextServer
from legnext_mcp.server.tools import Warm
from legnext_mcp.service.poller import Poller
from legnext_mcp.settings import Settings

FAST = 2000.0  # simulated seconds per real second: a 40 s job takes 20 ms
#: The client's read timeout on loopback: a "slow" fault answers after a second, well past it.
READ_TIMEOUT_S = 0.3
MJ_PROXY_BASE = "http://relay.test/mj-fast"


# --- the client on the simulator -----------------------------------------------------------------------


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


async def finished(client: LegnextClient, job: LegnextJob) -> LegnextJob:
    """Wait (bounded) for a job the simulator will finish quickly."""
    return await client.wait(job.job_id, timeout=10, known=job)


# --- the MCP server on the simulator ---------------------------------------------------------------------


def poller_of(server: MCPServer[Any]) -> Poller:
    """The process poller of a running server's latest session (what its waits register with)."""
    assert isinstance(server, LegnextServer)
    warm = server._sessions[-1].warm
    assert isinstance(warm, Warm)
    return warm.services.poller


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
async def server_harness(tmp_path: Path, mode: str = "auto", elicit: Any = None, *, seed: int = 3,
                         speed: float = FAST, clock: Clock | None = None, **overrides: Any) -> AsyncIterator[Harness]:
    """A server on a fresh in-process simulator running ``speed`` times faster than real time, with settings
    ``overrides`` (soft deadline, budget...); ``clock`` is what the server's waits sleep on."""
    sandbox = SandboxApp(Engine(time_scale=speed, seed=seed))
    settings = harness_settings(tmp_path, **overrides)
    async with make_client(sandbox, time_scale=speed, clock=clock) as api:
        server = build_server(settings, dialect=LegnextDialect(api))
        async with Client(server, mode=mode, elicitation_callback=elicit) as client:
            yield Harness(sandbox, settings, server, client)


# --- over a loopback socket, and as a host spawns it ------------------------------------------------------


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
            server = build_server(settings, dialect=LegnextDialect(api))
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


# --- the MCP server on the mj-proxy simulator -------------------------------------------------------------


@dataclass
class Relay:
    app: MjProxyApp
    client: Client
    settings: Settings

    async def call(self, tool: str, arguments: dict[str, Any] | None = None) -> Any:
        return await self.client.call_tool(tool, arguments or {})

    async def ok(self, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
        result = await self.call(tool, arguments)
        assert not result.is_error, result.content[0].text
        structured: dict[str, Any] = result.structured_content
        return structured

    async def done(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Submit with ``tool``, then wait for the job with wait_for_job (job tools return at once)."""
        submitted = await self.ok(tool, arguments)
        waited = await self.ok("wait_for_job", {"job_ids": [submitted["job_id"]]})
        job: dict[str, Any] = waited["jobs"][0]
        return job

    def posts(self, name: str) -> list[dict[str, Any]]:
        """The JSON bodies POSTed to ``/mj/submit/{name}``, in order."""
        return [json.loads(r.body) for r in self.app.stats.requests
                if r.method == "POST" and r.path.endswith(f"/mj/submit/{name}")]


class Rewrite:
    """A hostile upstream: the simulator's JSON answers passed through ``change(path, answer)`` first (a relay
    or an API that answers in shapes and values the docs never promised)."""

    def __init__(self, app: Any, change: Callable[[str, Any], Any]) -> None:
        self.app = app
        self.change = change

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        body = bytearray()

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        content = bytes(body)
        if any(k.lower() == b"content-type" and b"json" in v for k, v in headers) and content:
            content = json.dumps(self.change(scope["path"], json.loads(content))).encode()
        await send({"type": "http.response.start", "status": start["status"],
                    "headers": [*headers, (b"content-length", str(len(content)).encode())]})
        await send({"type": "http.response.body", "body": content})


@asynccontextmanager
async def relay_harness(tmp_path: Path, mode: str = "auto", *, flavor: str = "new-api", key: str = MJ_PROXY_KEY,
                        speed: float = FAST, change: Callable[[str, Any], Any] | None = None,
                        **overrides: Any) -> AsyncIterator[Relay]:
    """A server on a fresh relay simulator (``speed`` times real time) behind the ``/mj-fast`` prefix; with
    ``change``, every JSON answer passes through it first (a hostile relay)."""
    app = MjProxyApp(MjProxyEngine(time_scale=speed, flavor=flavor))  # type: ignore[arg-type]
    settings = replace(Settings(api_key=key, dialect="mj-proxy", base_url=MJ_PROXY_BASE, data_dir=tmp_path / "data",
                                output_dir=tmp_path / "out", soft_deadline_s=10), **overrides)
    transport = httpx2.ASGITransport(Rewrite(app, change) if change else app)
    dialect = MjProxyDialect(key, base_url=MJ_PROXY_BASE, prices=settings.relay_prices, unit=settings.relay_price_unit,
                             transport=transport, download_transport=transport, clock=Clock(speed))
    try:
        server = build_server(settings, dialect=dialect)
        async with Client(server, mode=mode) as client:
            yield Relay(app, client, settings)
    finally:
        await dialect.aclose()


async def made(relay: Relay, prompt: str = "a lighthouse at dusk") -> dict[str, Any]:
    job = await relay.ok("generate_and_wait", {"prompt": prompt})
    assert job["status"] == "completed"
    return job


async def upscaled(relay: Relay) -> dict[str, Any]:
    grid = await made(relay)
    return await relay.done("upscale", {"job_id": grid["job_id"], "image_no": 1})
