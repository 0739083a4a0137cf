"""Connecting to the API the settings name (no MCP here: the skill scripts use it too)."""

from __future__ import annotations

from contextlib import AsyncExitStack, ExitStack
from typing import TYPE_CHECKING, Any

from legnext_mcp.core.clock import Clock
from legnext_mcp.settings import Settings

if TYPE_CHECKING:
    from legnext_mcp.core.errors import LegnextError
    from legnext_mcp.core.job import Job
    from legnext_mcp.core.operations import Operation
    from legnext_mcp.core.policy import PollPlan
    from legnext_mcp.dialects.base import AccountSummary, Dialect, Prepared
    from legnext_mcp.http.download import Download


def make_dialect(settings: Settings, stack: AsyncExitStack | ExitStack) -> Dialect:
    """The API of ``settings``: the real one with the key, or (``sandbox``) the simulator on a loopback port,
    keeping its state in the data folder. Whatever it starts is stopped by ``stack``."""
    if settings.sandbox:
        from legnext_mcp.sandbox.run import start_sandbox

        base_url, key = start_sandbox(time_scale=settings.time_scale, state_dir=settings.sandbox_dir, stack=stack,
                                      dialect=settings.dialect)
    else:
        assert settings.api_key is not None  # Settings.from_env guarantees it
        base_url, key = settings.base_url, settings.api_key
    clock = Clock(settings.time_scale)
    if settings.dialect == "mj-proxy":
        from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect

        return MjProxyDialect(key, base_url=base_url, prices=settings.relay_prices, unit=settings.relay_price_unit,
                              clock=clock, download_max_bytes=settings.download_max_bytes)
    from legnext_mcp.dialects.legnext.client import LegnextClient
    from legnext_mcp.dialects.legnext.dialect import LegnextDialect

    return LegnextDialect(LegnextClient(key, base_url=base_url, clock=clock,
                                        download_max_bytes=settings.download_max_bytes))


class LazyDialect:
    """The dialect of ``settings``, made on first use. Importing a dialect (its wire models) was a third of the
    server's start-up time beyond the SDK's own, and nothing needs it before the first call; making it does
    no I/O, so nothing fails later that would have failed at start. Not for the sandbox, which starts a
    server (its errors belong at start-up)."""

    def __init__(self, settings: Settings) -> None:
        self.name = settings.dialect
        self._settings = settings
        self._stack = ExitStack()
        self._real: Dialect | None = None

    @property
    def real(self) -> Dialect:
        if self._real is None:
            self._real = make_dialect(self._settings, self._stack)
        return self._real

    @property
    def service(self) -> str:
        return self.real.service

    @property
    def base_url(self) -> str:
        return self.real.base_url

    @property
    def unit(self) -> str:
        return self.real.unit

    @property
    def clock(self) -> Clock:
        return self.real.clock

    def supports(self, operation: type[Operation]) -> bool:
        return self.real.supports(operation)

    def unsupported_reason(self, operation: type[Operation]) -> str:
        return self.real.unsupported_reason(operation)

    def prepare(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Prepared:
        return self.real.prepare(op, parent, parent_prompt)

    async def submit(self, prepared: Prepared) -> Job:
        return await self.real.submit(prepared)

    async def get(self, job_id: str) -> Job:
        return await self.real.get(job_id)

    async def get_many(self, job_ids: list[str]) -> list[Job | LegnextError]:
        return await self.real.get_many(job_ids)

    async def account(self) -> AccountSummary:
        return await self.real.account()

    async def active_jobs(self) -> list[Job] | None:
        return await self.real.active_jobs()

    def poll_plan(self, job: Job, prompt: str | None) -> PollPlan:
        return self.real.poll_plan(job, prompt)

    def from_raw(self, raw: dict[str, Any]) -> Job:
        return self.real.from_raw(raw)

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        return await self.real.download(url, max_bytes=max_bytes)

    async def aclose(self) -> None:
        try:
            if self._real is not None:
                await self._real.aclose()
        finally:
            self._stack.close()
