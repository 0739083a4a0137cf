"""The outermost layer of the HTTP transport, in front of authentication: health endpoints for a load balancer,
and the client's real address when (and only when) it comes through a proxy we were told to trust.

* ``/healthz``: the process is up and serving (no I/O). ``/readyz``: the ledger answers (503 otherwise), so a
  balancer stops sending calls to a replica that cannot record them. Neither needs a token, neither says more
  than ok or not.
* ``POST /callbacks/{capability}`` (with LEGNEXT_PUBLIC_URL): the API telling us a job ended. Nothing in it is
  believed: the capability (kept hashed, good while its job runs) names the job, and the news only makes the
  poller read that job now. Every well-formed call gets the same 200, whether the capability is known or not
  (no oracle); a body over 64 KiB is refused unread. A client address that sends capabilities we do not know
  gets a few such tries a second (then 429); good callbacks are never limited (an API calls back from a few
  addresses, a busy server's jobs often end together).
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
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from legnext_mcp.inputs_store import ROUTE, InputStore

Ready = Callable[[], Awaitable[str | None]]
#: News of a job: the capability from the path, and the job id the body names (None: it names none); whether the
#: capability belonged to a running job.
News = Callable[[str, str | None], Awaitable[bool]]
#: A callback's body is read up to this many bytes (a job with its URLs is a few kB).
CALLBACK_BODY_MAX = 64 * 1024
#: Unknown capabilities per client address: a bucket of this many, refilled at RATE per second.
CALLBACK_BURST = 20
CALLBACK_RATE = 5.0
#: Client addresses whose buckets are kept (the least recently seen are dropped first).
CALLBACK_CLIENTS = 10_000


class Edge:
    def __init__(self, app: ASGIApp, *, ready: Ready, trusted: Iterable[str] = (), news: News | None = None,
                 prefixes: Iterable[str] = ("",), clock: Callable[[], float] = time.monotonic,
                 inputs: InputStore | None = None) -> None:
        self.app = app
        self.ready = ready
        self.inputs = inputs
        self.trusted = tuple(ipaddress.ip_network(net, strict=False) for net in trusted)
        self.news = news
        # the balancer may pass the public URL's path prefix on or strip it
        prefixes = tuple(prefixes)
        self.callback_paths = tuple(sorted({f"{prefix.rstrip('/')}/callbacks/" for prefix in prefixes}))
        self.input_paths = tuple(sorted({f"{prefix.rstrip('/')}{ROUTE}" for prefix in prefixes}, key=len,
                                        reverse=True))
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self.clock = clock

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
            if self.inputs is not None and path.startswith(self.input_paths):
                start = next(p for p in self.input_paths if path.startswith(p))
                await self._input(scope, send, path[len(start):])
                return
            scope = self._through_proxy(scope)
            if self.news is not None and path.startswith(self.callback_paths):
                await self._callback(scope, receive, send)
                return
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

    async def _callback(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.news is not None
        if scope.get("method") != "POST":
            await _answer(send, 405, {"status": "callbacks are POSTed"})
            return
        client = scope.get("client")
        address = client[0] if client else ""
        if self._left(address, self.clock()) < 1.0:
            await _answer(send, 429, {"status": "slow down"})
            return
        body = await _read(receive, CALLBACK_BODY_MAX)
        if body is None:
            self._spend(address)
            await _answer(send, 413, {"status": "too large"})
            return
        token = scope.get("path", "").rsplit("/", 1)[-1]
        if not await self.news(token, named_job(body)):
            self._spend(address)
        await _answer(send, 200, {"status": "ok"})

    def _left(self, client: str, now: float) -> float:
        """What is left in a client address's bucket of tries (behind trusted proxies, the real client's)."""
        tokens, at = self.buckets.pop(client, (float(CALLBACK_BURST), now))
        tokens = min(float(CALLBACK_BURST), tokens + (now - at) * CALLBACK_RATE)
        self.buckets[client] = (tokens, now)
        if len(self.buckets) > CALLBACK_CLIENTS:
            self.buckets.popitem(last=False)
        return tokens

    def _spend(self, client: str) -> None:
        tokens, at = self.buckets.get(client, (float(CALLBACK_BURST), self.clock()))
        self.buckets[client] = (tokens - 1.0, at)

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


def named_job(body: bytes) -> str | None:
    """The job id a callback's body names, in either shape the APIs send (a bare job, or ``{timestamp, data}``;
    Legnext's ``job_id``, a relay's ``id``), or None. Only used to drop news that names another job."""
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, dict) and isinstance(payload.get("data"), dict):
        payload = payload["data"]
    if not isinstance(payload, dict):
        return None
    for field in ("job_id", "id"):
        value = payload.get(field)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)[:200]
    return None


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


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
