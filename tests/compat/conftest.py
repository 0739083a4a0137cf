"""The compat suite: third-party MCP clients and agent frameworks against ``legnext-mcp --sandbox``.

It runs in its own virtual environment (``tests/compat/requirements.txt``, pinned): the frameworks pin the
MCP SDK to 1.x while the server needs 2.x, as a user's agent and the server they spawn would. The server is
the one installed in the project's environment, named by ``LEGNEXT_MCP_BIN`` (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from providers import Provider


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def server_bin() -> str:
    found = os.environ.get("LEGNEXT_MCP_BIN") or shutil.which("legnext-mcp")
    if not found:
        pytest.fail("set LEGNEXT_MCP_BIN to the legnext-mcp of the project's environment")
    return found


@pytest.fixture
def server_env(tmp_path: Path) -> dict[str, str]:
    """What a host passes to the server it spawns: a data and output folder of this test's own."""
    return {"PATH": os.environ.get("PATH", ""), "LEGNEXT_DATA_DIR": str(tmp_path / "data"),
            "LEGNEXT_OUTPUT_DIR": str(tmp_path / "out"), "HOME": str(tmp_path)}


@pytest.fixture
def server_args() -> list[str]:
    return ["--sandbox", "--time-scale", "200"]


@pytest.fixture
def provider() -> Iterator[Provider]:
    with Provider() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def node_dir() -> Path:
    """tests/compat/node with its packages installed (``npm ci`` there; .ci/run does it in a copy and sets
    LEGNEXT_COMPAT_NODE)."""
    found = Path(os.environ.get("LEGNEXT_COMPAT_NODE") or Path(__file__).with_name("node"))
    if not (found / "node_modules").is_dir():
        pytest.fail(f"run `npm ci` in {found} (or set LEGNEXT_COMPAT_NODE)")
    return found


@pytest.fixture
def http_server(server_bin: str, server_args: list[str], server_env: dict[str, str]) -> Iterator[str]:
    """``legnext-mcp --transport http`` on a free loopback port; yields its /mcp URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([server_bin, *server_args, "--transport", "http", "--port", str(port)],
                               env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("the HTTP server did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)
