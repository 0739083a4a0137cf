"""``legnext-mcp --sandbox``: the simulator of the chosen API on a loopback port for this process, keeping
its state (accounts, jobs) in the data folder so a restarted server finds its jobs again."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from legnext_mcp.sandbox.serve import LoopbackSandbox

if TYPE_CHECKING:
    from contextlib import AsyncExitStack

    from legnext_mcp.settings import Settings


def start_sandbox(settings: Settings, stack: AsyncExitStack | ExitStack) -> tuple[str, str]:
    """Start the simulator for ``settings.dialect``; returns (base URL, the key it accepts). Stopped by ``stack``."""
    from legnext_mcp.sandbox.legnext.app import SandboxApp
    from legnext_mcp.sandbox.legnext.engine import DEFAULT_KEY, Engine

    engine = Engine(time_scale=settings.time_scale, state_dir=settings.sandbox_dir)
    server = LoopbackSandbox(SandboxApp(engine), prefer_port=engine.preferred_port).start()
    engine.remember_port(server.port)
    stack.callback(server.stop)
    return server.base_url, DEFAULT_KEY
