"""Connecting to the API the settings name (no MCP here: the skill scripts use it too)."""

from __future__ import annotations

from contextlib import AsyncExitStack, ExitStack

from legnext_mcp.core.clock import Clock
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.settings import Settings


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
