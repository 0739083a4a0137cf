"""``legnext-mcp --sandbox``: the simulator of the chosen API on a loopback port for this process, keeping
its state (accounts, jobs) in the data folder so a restarted server finds its jobs again."""

from __future__ import annotations

from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

from legnext_mcp.sandbox.serve import LoopbackSandbox


def start_sandbox(*, time_scale: float, state_dir: Path, stack: AsyncExitStack | ExitStack) -> tuple[str, str]:
    """Start the simulator, keeping its state under ``state_dir``; returns (base URL, the key it accepts).
    Stopped by ``stack``."""
    from legnext_mcp.sandbox.legnext.app import SandboxApp
    from legnext_mcp.sandbox.legnext.engine import DEFAULT_KEY, Engine

    engine = Engine(time_scale=time_scale, state_dir=state_dir)
    server = LoopbackSandbox(SandboxApp(engine), prefer_port=engine.preferred_port).start()
    engine.remember_port(server.port)
    stack.callback(server.stop)
    return server.base_url, DEFAULT_KEY
