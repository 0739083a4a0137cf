"""Serve the simulator on a loopback port with uvicorn: in the foreground (CLI) or in a thread (tests)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

from legnext_mcp.sandbox.app import SandboxApp
from legnext_mcp.sandbox.engine import Engine


class _PeakSet(set[Any]):
    """uvicorn's set of open connections, remembering its largest size."""

    peak = 0

    def add(self, item: Any) -> None:
        super().add(item)
        self.peak = max(self.peak, len(self))


class LoopbackSandbox:
    """The simulator on ``127.0.0.1:<port>`` in a background thread; ``port=0`` picks a free port.

    ``with LoopbackSandbox() as sandbox: sandbox.base_url`` -> ``http://127.0.0.1:PORT/api``.
    """

    def __init__(self, app: SandboxApp | None = None, *, port: int = 0, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.app = app or SandboxApp(Engine())
        config = uvicorn.Config(self.app, host=host, port=port, log_level="error", lifespan="off",
                                access_log=False, timeout_keep_alive=5)
        self._server = uvicorn.Server(config)
        self._open = _PeakSet()
        self._server.server_state.connections = self._open  # uvicorn adds and discards each connection here
        self._thread = threading.Thread(target=self._server.run, name="legnext-sandbox", daemon=True)
        self.host = host
        self.port = port

    @property
    def peak_connections(self) -> int:
        """The most TCP connections that were open at once."""
        return self._open.peak

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_forever(app: SandboxApp, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the simulator in the foreground until interrupted."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
