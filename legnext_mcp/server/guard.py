"""What guards the HTTP transport beyond the SDK's own checks: the bearer token (its scheme in any case, RFC
7235), sessions per client (one client cannot fill the session table and lock everyone out), the names a wide
bind answers to, and refusals that name the setting that changes them (a 421 or a 503 from the SDK says only
"Invalid Host header" or "Too many open sessions")."""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A client (one address) may hold at most this many live sessions, unless LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT.
MAX_SESSIONS_PER_CLIENT = 100


def bearer_token(header: bytes) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header, the scheme in any case; None for another
    scheme or none."""
    scheme, _, token = header.strip().partition(b" ")
    return token.strip() or None if scheme.lower() == b"bearer" else None


def token_matches(header: bytes, expected: bytes) -> bool:
    """Whether the header carries ``expected`` as its bearer token (compared in constant time)."""
    given = bearer_token(header)
    return given is not None and hmac.compare_digest(given, expected)


def machine_names() -> set[str]:
    """This machine's host name, its fully qualified name and the addresses they resolve to, and the address it
    reaches the network from (a UDP socket connected to a documentation address: nothing is sent). A teammate
    reaches a server bound to every interface (0.0.0.0, ::) by one of these."""
    names: set[str] = set()
    for name in {socket.gethostname(), socket.getfqdn()}:
        if not name:
            continue
        names.add(name.lower())
        with contextlib.suppress(OSError):
            names.update(str(info[4][0]) for info in socket.getaddrinfo(name, None, type=socket.SOCK_STREAM))
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as udp:
                udp.connect((probe, 9))
                names.add(str(udp.getsockname()[0]))
        except OSError:
            pass
    return {f"[{name}]" if ":" in name else name for name in names}


async def _json(send: Send, status: int, body: dict[str, str], headers: list[tuple[bytes, bytes]] | None = None,
                ) -> None:
    content = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": content})


#: What a refusal of the SDK's says, by status, in our words: what happened and the setting that changes it.
EXPLAINED = {
    421: "The Host header names a host this server does not answer to (DNS rebinding protection). Reach it by "
         "an address or name it accepts, or list yours in LEGNEXT_HTTP_ALLOWED_HOSTS (comma-separated).",
    403: "The Origin header names a site this server does not accept (DNS rebinding protection). List it in "
         "LEGNEXT_HTTP_ALLOWED_HOSTS (comma-separated host names) if it is yours.",
    503: "Too many open sessions on this server (LEGNEXT_HTTP_MAX_SESSIONS). Close unused ones (DELETE /mcp) or "
         "wait for idle ones to close (LEGNEXT_HTTP_SESSION_IDLE_S).",
}


class Explain:
    """Replaces the body of the SDK's 421, 403 and 503 refusals with one naming the setting to change (not an
    OAuth refusal: its ``WWW-Authenticate`` challenge is what the client acts on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced: list[int] = []

        async def explained(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in EXPLAINED and not any(
                    name.lower() == b"www-authenticate" for name, _ in message.get("headers", [])):
                replaced.append(message["status"])  # (an OAuth 403 names its own fix, in its challenge)
                return
            if replaced:
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    await _json(send, replaced[0], {"error": EXPLAINED[replaced[0]]})
                return
            await send(message)

        await self.app(scope, receive, explained)


#: A host that gets 401 may start OAuth on its own and report "Dynamic Client Registration rejected": say that this
#: is a fixed token the client must be configured to send.
UNAUTHORIZED = {"error": "unauthorized", "error_description": "This server takes a fixed bearer token "
                "(LEGNEXT_HTTP_TOKEN), not OAuth: configure your MCP client to send the header "
                "Authorization: Bearer <token>."}


class BearerToken:
    """Refuses requests without ``Authorization: Bearer <token>`` (the scheme in any case; the token compared in
    constant time)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = token.encode()

    def __repr__(self) -> str:
        return "BearerToken(***)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = next((v for k, v in scope.get("headers", []) if k.lower() == b"authorization"), b"")
            if not token_matches(given, self._expected):
                await _json(send, 401, UNAUTHORIZED, [(b"www-authenticate", b"Bearer")])
                return
        await self.app(scope, receive, send)


@dataclass
class _Session:
    client: str
    seen: float


class SessionsPerClient:
    """At most ``per_client`` live sessions per client address: a client that opens sessions and abandons them
    fills its own share, not the whole table (LEGNEXT_HTTP_MAX_SESSIONS), so other clients still get in. A
    session lives from the answer that named it until DELETE or ``idle_s`` without a request (the SDK's own idle
    timeout)."""

    def __init__(self, app: ASGIApp, *, per_client: int, idle_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.per_client = per_client
        self.idle_s = idle_s
        self.clock = clock
        self._sessions: dict[bytes, _Session] = {}

    def live(self, client: str) -> int:
        return sum(1 for session in self._sessions.values() if session.client == client)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        now = self.clock()
        self._sessions = {sid: s for sid, s in self._sessions.items() if now - s.seen < self.idle_s}
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        client = scope["client"][0] if scope.get("client") else "unknown"
        sid = headers.get(b"mcp-session-id")
        if sid is not None:
            known = self._sessions.get(sid)
            if known is not None:
                known.seen = now
                if scope.get("method") == "DELETE":
                    del self._sessions[sid]
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "POST" and self.live(client) >= self.per_client:
            await _json(send, 503, {"error": (
                f"This client already has {self.per_client} open sessions (LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT). "
                "Close unused ones (DELETE /mcp with their Mcp-Session-Id) or wait for idle ones to close "
                "(LEGNEXT_HTTP_SESSION_IDLE_S).")})
            return

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                named = next((v for k, v in message.get("headers", []) if k.lower() == b"mcp-session-id"), None)
                if named is not None:
                    self._sessions[named] = _Session(client, self.clock())
            await send(message)

        await self.app(scope, receive, noting)
