"""One simulated account per data folder, however many ``--sandbox`` servers use it (Claude Desktop and Claude
Code, two sessions, the Inspector beside a host).

The first server to start runs the simulator on the folder's port and keeps its state in the folder; the next
ones find it there (the port is in the saved state; the simulator names its account, ``/_sandbox/instance``)
and use it. When the one running it exits, another takes over on the same port from the saved state, so the
URLs handed out stay valid and every server still sees every job. Deciding who runs it is done under a lock on
a file in the folder, so two servers starting at once do not both start one.
"""

from __future__ import annotations

import http.client
import json
import threading
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any

from legnext_mcp.sandbox.core import state
from legnext_mcp.sandbox.legnext.app import SandboxApp
from legnext_mcp.sandbox.legnext.engine import Engine
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.sockets import PortTakenError

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; the port itself still keeps a second simulator out
    fcntl = None  # type: ignore[assignment]

#: How often (real seconds) a server that uses another's simulator checks that it still answers.
WATCH_EVERY_S = 0.5
HOST = "127.0.0.1"


@contextmanager
def _locked(folder: Path) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(folder / "sandbox.lock", "a")  # noqa: SIM115 - closed below, after the lock
    try:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _instance_at(port: int) -> str | None:
    """The account a simulator on ``port`` names, or None (nothing there, or not a simulator)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", "/_sandbox/instance")
        answer = connection.getresponse()
        body = json.loads(answer.read(1000)) if answer.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    value = body.get("instance") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class SharedSandbox(AbstractContextManager["SharedSandbox"]):
    """The folder's simulator: run here, or used where another server runs it (and taken over if it stops)."""

    def __init__(self, state_dir: Path, *, time_scale: float) -> None:
        self.state_dir = state_dir
        self.time_scale = time_scale
        self.port: int | None = None
        self.running: LoopbackSandbox[SandboxApp] | None = None
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    def start(self) -> SharedSandbox:
        """Use the folder's running simulator, or start it.

        Raises:
            PortTakenError: no port to listen on.
        """
        with _locked(self.state_dir):
            self._join_or_run()
        if self.running is None:
            self._watch = threading.Thread(target=self._keep, name="legnext-sandbox-watch", daemon=True)
            self._watch.start()
        return self

    def _join_or_run(self) -> None:
        saved = state.load(self.state_dir) or {}
        port = saved.get("port")
        engine = Engine(time_scale=self.time_scale, state_dir=self.state_dir)
        if isinstance(port, int) and _instance_at(port) == engine.instance:
            self.port = port  # another server runs it: use it
            return
        try:
            server = LoopbackSandbox(SandboxApp(engine), prefer_port=port if self.port is None else None,
                                     port=self.port or 0).start()
        except PortTakenError:
            if self.port is not None and _instance_at(self.port) == engine.instance:
                return  # someone else took it over first
            raise
        engine.remember_port(server.port)
        self.port, self.running = server.port, server

    def _keep(self) -> None:
        """While another server runs the simulator: when it stops answering, run it here, on the same port."""
        while not self._stop.wait(WATCH_EVERY_S):
            if self.port is not None and _instance_at(self.port) is not None:
                continue
            try:
                with _locked(self.state_dir):
                    if self.port is None or _instance_at(self.port) is None:
                        self._join_or_run()
            except (OSError, PortTakenError):
                continue  # try again at the next look
            if self.running is not None:
                return

    def stop(self) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout=5)
        if self.running is not None:
            self.running.stop()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
