"""The listening socket both HTTP servers use (the MCP transport and the simulators): every accepted connection
has Nagle's algorithm off, so a response written in pieces is not held back ~40 ms for the client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import pytest

from legnext_mcp.sandbox import SandboxApp
from legnext_mcp.sandbox.serve import LoopbackSandbox
from legnext_mcp.sockets import PortTakenError, bind


@pytest.mark.anyio
async def test_connections_accepted_from_our_listener_have_nodelay() -> None:
    accepted: asyncio.Queue[int] = asyncio.Queue()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        await accepted.put(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    listener = bind("127.0.0.1", 0)
    server = await asyncio.start_server(on_connect, sock=listener)
    async with server:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        assert await asyncio.wait_for(accepted.get(), 5) == 1
        writer.close()


def test_the_simulator_s_accepted_connections_have_nodelay() -> None:
    with LoopbackSandbox(SandboxApp()) as served, socket.create_connection(("127.0.0.1", served.port)) as client:
        client.sendall(b"GET /api/account/balance HTTP/1.1\r\nhost: x\r\n\r\n")
        assert client.recv(64).startswith(b"HTTP/1.1")
        sockets = [p.transport.get_extra_info("socket") for p in served._open]
        assert sockets and all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1 for s in sockets)


def test_a_port_out_of_range_is_one_line() -> None:
    with pytest.raises(PortTakenError, match="1 to 65535"):
        bind("127.0.0.1", 99999)
