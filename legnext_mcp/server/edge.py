"""The outermost layer of the HTTP transport, in front of authentication: health endpoints for a load balancer,
and the client's real address when (and only when) it comes through a proxy we were told to trust.

* ``/healthz``: the process is up and serving (no I/O). ``/readyz``: the ledger answers (503 otherwise), so a
  balancer stops sending calls to a replica that cannot record them. Neither needs a token, neither says more
  than ok or not.
* ``Forwarded`` (RFC 7239) and ``X-Forwarded-For``/``X-Forwarded-Proto`` are believed only from a peer in
  LEGNEXT_TRUSTED_PROXIES; from anyone else they are ignored (uvicorn's own handling is off), so a client cannot
  claim another address.
* ``/inputs/<token>`` (with LEGNEXT_PUBLIC_URL): a local picture the API fetches for a job, at its capability URL
  (``inputs_store``): the bytes and their content type, nothing else; any other path under it, an unknown or an
  expired token is a plain 404. No token is needed (the URL is the capability).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from legnext_mcp.inputs_store import ROUTE, InputStore

Ready = Callable[[], Awaitable[str | None]]


class Edge:
    def __init__(self, app: ASGIApp, *, ready: Ready, trusted: Iterable[str] = (),
                 inputs: InputStore | None = None) -> None:
        self.app = app
        self.ready = ready
        self.inputs = inputs
        self.trusted = tuple(ipaddress.ip_network(net, strict=False) for net in trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope.get("path", "")
            if path == "/healthz":
                await _answer(send, 200, {"status": "ok"})
                return
            if path == "/readyz":
                problem = await self.ready()
                await _answer(send, 503 if problem else 200, {"status": "not ready" if problem else "ready"})
                return
            if self.inputs is not None and path.startswith(ROUTE):
                await self._input(scope, send, path[len(ROUTE):])
                return
            scope = self._through_proxy(scope)
        await self.app(scope, receive, send)

    async def _input(self, scope: Scope, send: Send, token: str) -> None:
        assert self.inputs is not None
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, {"status": "method not allowed"})
            return
        served = self.inputs.get(token)
        if served is None:
            await _answer(send, 404, {"status": "not found"})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", served.content_type.encode()),
                                (b"content-length", str(len(served.data)).encode()),
                                (b"x-content-type-options", b"nosniff"), (b"cache-control", b"private, no-store"),
                                (b"referrer-policy", b"no-referrer")]})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else served.data})

    def _through_proxy(self, scope: Scope) -> Scope:
        client = scope.get("client")
        if not self.trusted or not client or not _within(client[0], self.trusted):
            return scope
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        address, proto = forwarded(headers.get(b"forwarded"), headers.get(b"x-forwarded-for"),
                                   headers.get(b"x-forwarded-proto"))
        changed = dict(scope)
        if address is not None:
            changed["client"] = (address, 0)
        if proto in ("http", "https"):
            changed["scheme"] = proto
        return changed


def forwarded(header: str | None, xff: str | None, xfp: str | None) -> tuple[str | None, str | None]:
    """The client address and scheme a trusted proxy reports: RFC 7239 ``Forwarded`` first, else the de facto
    headers. The last hop is the one our proxy added (earlier ones are the client's own claims)."""
    if header:
        last = header.split(",")[-1]
        fields = dict(part.strip().split("=", 1) for part in last.split(";") if "=" in part)
        address = fields.get("for", "").strip('"')
        if address.startswith("["):  # [2001:db8::1]:4711
            address = address[1:].split("]", 1)[0]
        elif address.count(":") == 1:  # 192.0.2.60:4711
            address = address.split(":", 1)[0]
        return (address if _is_address(address) else None), fields.get("proto", "").strip('"').lower() or None
    hop = xff.split(",")[-1].strip() if xff else ""
    scheme = xfp.split(",")[-1].strip().lower() if xfp else None
    return (hop if _is_address(hop) else None), scheme


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


async def _answer(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": payload})
