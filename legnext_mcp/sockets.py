"""Listening sockets, for the HTTP transport and the simulators alike (neither imports the other).

The socket is made with protocol ``IPPROTO_TCP``, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY)
only on accepted sockets whose protocol says TCP, and with it on, a response written in pieces waits ~40 ms
for the client's delayed ACK.
"""

from __future__ import annotations

import errno
import socket


class PortTakenError(OSError):
    """The port is in use (or not allowed); the message says how to pick another."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 picks a free port).

    Raises:
        PortTakenError: the port is taken, out of range or not allowed.
    """
    if not 0 <= port <= 65535:
        raise PortTakenError(f"port {port} is not a TCP port; choose one from 1 to 65535 with --port (or --port 0 for "
                             "any free port)")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:  # the host, not the port
            raise PortTakenError(f"cannot listen on {host} ({exc.strerror}): it is not a name or address of this "
                                 "machine; choose another with --host (127.0.0.1 for this machine only, 0.0.0.0 for "
                                 "every interface)") from None
        raise PortTakenError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another with --port "
                             "(or --port 0 for any free port)") from None
    return sock
