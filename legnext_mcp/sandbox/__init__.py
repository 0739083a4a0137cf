"""Simulators of the APIs, written from the docs and importing nothing of the client or the dialects (a
simulator that reused the client's models would agree with the client's bugs).

``SandboxApp(Engine(time_scale=...))`` is the Legnext API as an ASGI app; ``LoopbackSandbox`` serves an app
on a local port. The midjourney-proxy relay is in ``legnext_mcp.sandbox.mjproxy``.
"""

from legnext_mcp.sandbox.core.asgi import Stats
from legnext_mcp.sandbox.core.faults import Fault
from legnext_mcp.sandbox.legnext.app import SandboxApp
from legnext_mcp.sandbox.legnext.engine import DEFAULT_KEY, FAIL_WORD, HANG_WORD, MODERATION_WORD, Engine

__all__ = ["DEFAULT_KEY", "FAIL_WORD", "HANG_WORD", "MODERATION_WORD", "Engine", "Fault", "SandboxApp", "Stats"]
