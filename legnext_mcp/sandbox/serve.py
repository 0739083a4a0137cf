"""Serve a simulator on a loopback port with uvicorn: in the foreground (CLI) or in a thread (tests, --sandbox).

The socket is bound before anything is announced, so a taken port fails first, with the fix.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import uvicorn

from legnext_mcp.sandbox.core.asgi import RecordingApp
from legnext_mcp.sockets import PortTakenError, bind


class _PeakSet(set[Any]):
    """uvicorn's set of open connections, remembering its largest size."""

    peak = 0

    def add(self, item: Any) -> None:
        super().add(item)
        self.peak = max(self.peak, len(self))


App = TypeVar("App", bound=Callable[..., Any])  # an ASGI app (a simulator, or a test's receiver)


class LoopbackSandbox(Generic[App]):
    """A simulator on ``127.0.0.1:<port>`` in a background thread; ``port=0`` picks a free port.

    ``with LoopbackSandbox(app) as sandbox: sandbox.base_url`` -> ``http://127.0.0.1:PORT/api``.
    ``prefer_port`` is tried first and a free port taken if it is busy (a restarted ``--sandbox`` keeps its
    port, so the URLs it handed out before still open).
    """

    def __init__(self, app: App, *, port: int = 0, host: str = "127.0.0.1", prefer_port: int | None = None,
                 base_path: str = "/api") -> None:
        self.app: App = app
        self.host = host
        self.base_path = base_path
        self._socket: socket.socket | None = None
        if prefer_port:
            try:
                self._socket = bind(host, prefer_port)
            except PortTakenError:
                self._socket = None
        if self._socket is None:
            self._socket = bind(host, port)
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(self.app, log_level="error", lifespan="off", access_log=False, timeout_keep_alive=5)
        self._server = uvicorn.Server(config)
        self._open = _PeakSet()
        self._server.server_state.connections = self._open  # uvicorn adds and discards each connection here
        sockets = [self._socket]
        self._thread = threading.Thread(target=lambda: self._server.run(sockets=sockets), name="legnext-sandbox",
                                        daemon=True)

    @property
    def peak_connections(self) -> int:
        """The most TCP connections that were open at once."""
        return self._open.peak

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}{self.base_path}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve_forever(app: RecordingApp, sock: socket.socket) -> None:
    """Run a simulator in the foreground on an already bound socket until interrupted."""
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
