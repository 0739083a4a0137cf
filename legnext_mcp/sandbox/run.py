"""``legnext-mcp --sandbox``: the simulator of the chosen API on a loopback port for this process, keeping
its state (accounts, jobs) in the data folder so a restarted server finds its jobs again; every ``--sandbox``
server on one data folder uses the same simulator (``shared``)."""

from __future__ import annotations

from contextlib import AsyncExitStack, ExitStack
from pathlib import Path

from legnext_mcp.sandbox.legnext.engine import DEFAULT_KEY
from legnext_mcp.sandbox.mjproxy.app import MjProxyApp
from legnext_mcp.sandbox.mjproxy.engine import DEFAULT_KEY as MJ_PROXY_KEY
from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.sandbox.shared import SharedSandbox


def start_sandbox(*, time_scale: float, state_dir: Path, stack: AsyncExitStack | ExitStack,
                  dialect: str = "legnext") -> tuple[str, str]:
    """Start the simulator of ``dialect``, keeping its state under ``state_dir`` (the mj-proxy simulator keeps
    none: its tasks live as long as the process); returns (base URL, the key it accepts). Stopped by ``stack``."""
    if dialect == "mj-proxy":
        relay = LoopbackSandbox(MjProxyApp(MjProxyEngine(time_scale=time_scale))).start()
        stack.callback(relay.stop)
        return relay.origin, MJ_PROXY_KEY
    shared = SharedSandbox(state_dir, time_scale=time_scale).start()  # one account per data folder
    stack.callback(shared.stop)
    return shared.base_url, DEFAULT_KEY
