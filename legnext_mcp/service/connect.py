"""Connecting to the API the settings name (no MCP here: the skill scripts use it too)."""

from __future__ import annotations

from typing import Any

from legnext_mcp.core.clock import Clock
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.dialects.legnext.client import LegnextClient
from legnext_mcp.dialects.legnext.dialect import LegnextDialect
from legnext_mcp.dialects.mjproxy.dialect import MjProxyDialect
from legnext_mcp.http.request_key import NO_SERVER_KEY
from legnext_mcp.settings import Settings


def make_dialect(settings: Settings) -> Dialect[Any]:
    """The API of ``settings`` at its base URL with its key (``--sandbox`` points both at the simulator it
    started). Makes no request; the caller closes it (``aclose``)."""
    # Settings.from_env guarantees a key, or the sandbox set it, or each request brings its own
    key = settings.api_key if settings.api_key is not None else NO_SERVER_KEY
    assert settings.api_key is not None or settings.user_keys
    clock = Clock(settings.time_scale)
    if settings.dialect == "mj-proxy":
        return MjProxyDialect(key, base_url=settings.base_url, prices=settings.relay_prices,
                              unit=settings.relay_price_unit, clock=clock,
                              download_max_bytes=settings.download_max_bytes)
    return LegnextDialect(LegnextClient(key, base_url=settings.base_url, clock=clock,
                                        download_max_bytes=settings.download_max_bytes))
