"""A team on loopback, for the replica tests and benchmarks: `legnext-mcp --transport http` replicas as a team runs
them, and a round-robin HTTP load balancer: haproxy when it is installed (CI installs it and sets
LEGNEXT_TEST_REQUIRE_HAPROXY=1, so a missing haproxy fails the run there), otherwise a small per-request reverse
proxy of our own (so the README's test command passes on a machine without haproxy).

haproxy's configuration is the one docs/team.md recommends: round robin, no stickiness, health checks on
``/readyz``, a fresh backend connection per request, events flushed at once, 75 s for a silent stream.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

REQUIRE = "LEGNEXT_TEST_REQUIRE_HAPROXY"

HAPROXY_CONFIG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 10s
    timeout client 75s
    timeout server 75s
    timeout client-fin 5s
    timeout server-fin 5s
    option http-server-close
    option http-no-delay
    option forwardfor
    retries 2
    option redispatch 1
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server inter 300ms fall 2 rise 1 check
{servers}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def balancer(backends: list[int], port: int) -> Iterator[str]:
    """A balancer on ``port`` over ``backends`` (loopback ports); what it is ("haproxy" or "python")."""
    binary = shutil.which("haproxy")
    if binary is None and os.environ.get(REQUIRE):
        raise RuntimeError(f"{REQUIRE} is set but haproxy is not installed (apt-get install -y haproxy)")
    if binary is not None:
        with _haproxy(binary, port, backends):
            yield "haproxy"
    else:
        with _python_proxy(port, backends):
            yield "python"


@contextmanager
def _haproxy(binary: str, port: int, backends: list[int]) -> Iterator[None]:
    folder = Path(tempfile.mkdtemp(prefix="legnext-haproxy-"))
    config = folder / "haproxy.cfg"
    servers = "\n".join(f"    server r{n} 127.0.0.1:{backend}" for n, backend in enumerate(backends))
    config.write_text(HAPROXY_CONFIG.format(port=port, servers=servers))
    check = subprocess.run([binary, "-c", "-q", "-f", str(config)], capture_output=True, text=True, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"haproxy refused its configuration: {check.stderr.strip()}")
    process = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _python_proxy(port: int, backends: list[int]) -> Iterator[None]:
    turn = itertools.cycle(backends)
    clients: list[httpx2.AsyncClient] = []  # made and closed on the proxy's own event loop (its lifespan)

    async def app(scope: dict[str, object], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    clients.append(httpx2.AsyncClient(timeout=httpx2.Timeout(75.0), follow_redirects=False))
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await clients[0].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        client = clients[0]
        request = Request(scope, receive)
        target = f"http://127.0.0.1:{next(turn)}{request.url.path}" + (f"?{request.url.query}" if request.url.query
                                                                       else "")
        headers = [(k, v) for k, v in request.headers.raw if k.lower() not in (b"host", b"connection")]
        headers.append((b"host", f"127.0.0.1:{port}".encode()))
        upstream = await client.send(client.build_request(request.method, target, headers=headers,
                                                          content=await request.body()), stream=True)

        async def body() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    yield chunk
            finally:
                await upstream.aclose()

        keep = [(k, v) for k, v in upstream.headers.raw if k.lower() not in (b"transfer-encoding", b"connection",
                                                                             b"content-length")]
        response: Response = StreamingResponse(body(), status_code=upstream.status_code)
        response.raw_headers = keep
        await response(scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait_for(port)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _wait_for(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"the balancer did not listen on {port} within {seconds:.0f} s")


@contextmanager
def replicas(envs: list[dict[str, str]], ports: list[int] | None = None, *, logs: Path | None = None,
             ) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[int]]]:
    """One ``legnext-mcp --transport http`` per environment, each on a free port (or the given ones), ready
    (``/readyz``) when this yields (the processes and their ports); stopped with SIGTERM after. ``logs``: a folder
    their stderr is written to (``replica-N.log``), for tests that read what the replicas logged."""
    ports = ports or [free_port() for _ in envs]
    sinks: list[Any] = []
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        sinks = [(logs / f"replica-{n}.log").open("wb") for n in range(len(envs))]
    processes = [subprocess.Popen([sys.executable, "-m", "legnext_mcp.cli", "--transport", "http", "--port", str(port)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=sinks[n] if sinks else subprocess.PIPE)
                 for n, (port, env) in enumerate(zip(ports, envs, strict=True))]
    try:
        for port, process in zip(ports, processes, strict=True):
            _ready(port, process)
        yield processes, ports
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
            if process.stderr is not None:
                process.stderr.close()
        for sink in sinks:
            sink.close()


def _ready(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read().decode()[-800:] if process.stderr is not None else "(see its log)"
            raise RuntimeError(f"a replica exited: {said}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"replica on {port} not ready within 60 s")
