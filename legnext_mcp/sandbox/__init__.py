"""A simulator of the Legnext API, written from ``legnext-docs/`` and independent of ``legnext_mcp.api``.

``SandboxApp(Engine(time_scale=...))`` is an ASGI app; ``LoopbackSandbox`` serves it on a local port.
"""

from legnext_mcp.sandbox.app import SandboxApp, Stats
from legnext_mcp.sandbox.engine import DEFAULT_KEY, FAIL_WORD, HANG_WORD, MODERATION_WORD, Engine
from legnext_mcp.sandbox.faults import Fault

__all__ = ["DEFAULT_KEY", "FAIL_WORD", "HANG_WORD", "MODERATION_WORD", "Engine", "Fault", "SandboxApp", "Stats"]
