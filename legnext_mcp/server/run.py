"""Running the server as a host spawns it: stdio, or Streamable HTTP guarded for the network it is on.

* Start-up problems (a data folder that is a file, read-only, full, damaged, from a newer version; a port
  in use; an open bind without a token) are one line and exit code 2, before anything is served.
* SIGINT and SIGTERM stop the server promptly: calls in flight are cancelled, which records any request
  that may have been sent as uncertain before the process exits (``service.jobs.submit``).
* HTTP: the Host and Origin headers are checked on every bind (DNS rebinding), a bearer token
  (LEGNEXT_HTTP_TOKEN, compared in constant time, never logged) is required off loopback, sessions idle
  out, and a connection that does not finish its request headers in time is closed (slowloris).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp

from legnext_mcp.core.errors import LedgerError
from legnext_mcp.core.urls import is_loopback_host
from legnext_mcp.inputs_store import InputStore
from legnext_mcp.ledger import open_ledger
from legnext_mcp.server.edge import Edge
from legnext_mcp.server.front import LegnextServer, build_server
from legnext_mcp.server.guard import MAX_SESSIONS_PER_CLIENT, BearerToken, Explain, SessionsPerClient, machine_names
from legnext_mcp.server.manifest import price_keys
from legnext_mcp.settings import Settings
from legnext_mcp.sockets import PortTakenError, bind

log = logging.getLogger("legnext_mcp.server")

#: Idle Streamable HTTP sessions are closed after this (the SDK's default is 30 minutes).
SESSION_IDLE_S = 300.0
#: Sessions a 2025-era client keeps open in this process (a 2026-07-28 client keeps none). Measured
#: (benchmarks/sessions.py): ~0.6 MiB each and no CPU while idle, and 1,000 waits take under half a core; so
#: 2,000 sessions are ~1.2 GiB at most, before the CPU of their calls is the limit.
MAX_SESSIONS = 2000
#: A connection must send its request headers within this many seconds.
HEADER_TIMEOUT_S = 10.0
#: After SIGINT/SIGTERM, calls in flight get this long to record what they sent before the process exits.
SHUTDOWN_GRACE_S = 1.5


class ServeError(Exception):
    """The server cannot start; the message says what and the fix."""


E = TypeVar("E", bound=BaseException)


def check_startup(settings: Settings) -> None:
    """Open the ledger once before serving, so a bad data folder is one clear line, not a traceback.

    Raises:
        ServeError: what is wrong and the fix.
    """
    async def probe() -> None:
        ledger = open_ledger(settings)
        try:
            await ledger.open()
        finally:
            await ledger.close()

    try:
        anyio.run(probe)
    except LedgerError as exc:
        raise ServeError(exc.message) from None


def serve(settings: Settings, *, transport: str, host: str, port: int) -> int:
    """Serve until stdin closes (stdio) or a signal arrives. Returns the exit code.

    Raises:
        ServeError: the server cannot start.
    """
    unknown = sorted(set(settings.relay_prices) - price_keys())
    if unknown:
        raise ServeError(f"LEGNEXT_RELAY_PRICES names {', '.join(unknown)}, which no job tool runs; use the names of "
                         f"the operations: {', '.join(sorted(price_keys()))}")
    if transport == "stdio" and settings.user_keys and settings.api_key is None:
        raise ServeError("LEGNEXT_USER_KEYS=header is for the HTTP transport (each request brings its key in "
                         "X-Legnext-Api-Key); on stdio set LEGNEXT_API_KEY, or serve with --transport http")
    if transport != "stdio":
        # uvicorn reports a failing lifespan as a traceback; on stdio the lifespan's own open says it in one line
        # (the command line probes first for the sandbox, which writes into the data folder before serving)
        check_startup(settings)
    if transport == "stdio":
        if settings.public_url is not None:  # nothing listens for callbacks on stdio: keep polling at full pace
            log.warning("LEGNEXT_PUBLIC_URL is ignored on stdio (callbacks need the HTTP transport)")
            settings = replace(settings, public_url=None)
        try:
            anyio.run(_until_signal, build_server(settings).run_stdio_async)
        except (LedgerError, BaseExceptionGroup) as exc:
            failed = _first(exc, LedgerError)
            if failed is None:
                raise
            raise ServeError(failed.message) from None
        return 0
    server = build_server(settings, http=True)
    app = http_app(server, settings, host=host, port=port)
    try:
        sock = bind(host, port)
    except PortTakenError as exc:
        raise ServeError(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    print(f"legnext-mcp: Streamable HTTP on http://{shown}:{sock.getsockname()[1]}/mcp"
          + ("" if settings.http_token is None else " (bearer token required)")
          + ("" if settings.oauth_issuer is None else f" (OAuth: tokens of {settings.oauth_issuer} for "
             f"{settings.resource_url})"), file=sys.stderr)
    anyio.run(_until_signal, lambda: _uvicorn(app, sock))
    return 0


def _first(exc: BaseException, kind: type[E]) -> E | None:
    """``exc`` if it is a ``kind``, else the first ``kind`` inside it (task groups wrap what they raise)."""
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _first(inner, kind)
            if found is not None:
                return found
    return None


async def _until_signal(run: Any) -> None:
    """Run ``run()`` until it returns or SIGINT/SIGTERM arrives; then cancel it (recording in-flight calls)."""
    async with anyio.create_task_group() as group:

        async def main() -> None:
            await run()
            group.cancel_scope.cancel()

        async def watch() -> None:
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for received in signals:
                    log.info("received %s: stopping", signal.Signals(received).name)
                    group.cancel_scope.cancel()
                    # Calls in flight record what they sent within moments (shielded); the stdio reader may
                    # stay blocked on stdin in a thread nothing can interrupt, so do not wait for it.
                    threading.Timer(SHUTDOWN_GRACE_S, _leave).start()
                    return

        group.start_soon(main)
        group.start_soon(watch)
    _leave()


def _leave() -> None:
    """Exit now: the stdio reader may still be blocked reading stdin in a worker thread, which nothing can
    interrupt, and a host that sent SIGINT should not have to close stdin or escalate to SIGKILL."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


async def _uvicorn(app: ASGIApp, sock: Any) -> None:
    import uvicorn

    header_s = float(os.environ.get("LEGNEXT_HTTP_HEADER_TIMEOUT_S") or HEADER_TIMEOUT_S)
    # Forwarded headers are read by the edge, from trusted proxies only (server/edge.py): not by uvicorn.
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, timeout_keep_alive=5,
                            http=header_deadline_protocol(header_s), proxy_headers=False)
    await uvicorn.Server(config).serve(sockets=[sock])


def header_deadline_protocol(seconds: float = HEADER_TIMEOUT_S) -> type:
    """uvicorn's h11 protocol, closing a connection whose request headers do not arrive within ``seconds``."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class DeadlineProtocol(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._header_timer = self.loop.call_later(seconds, self._headers_late)

        def _headers_late(self) -> None:
            if self.cycle is None and not self.transport.is_closing():
                self.transport.close()

        def handle_events(self) -> None:
            super().handle_events()
            if self.cycle is not None:
                self._header_timer.cancel()

        def connection_lost(self, exc: Exception | None) -> None:
            self._header_timer.cancel()
            super().connection_lost(exc)

    return DeadlineProtocol


def allowed_hosts(host: str, port: int) -> tuple[list[str], list[str]]:
    """The Host and Origin values a bind accepts: the address it listens on, and this machine's names."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host in ("0.0.0.0", "::", ""):  # noqa: S104  every interface: this machine's own names and addresses
        names.update(machine_names())
    else:  # the address bound to, any loopback address included (127.0.0.2 is as local as 127.0.0.1)
        names.add(f"[{host}]" if ":" in host else host)
    extra = [h.strip() for h in os.environ.get("LEGNEXT_HTTP_ALLOWED_HOSTS", "").split(",") if h.strip()]
    names.update(extra)
    hosts = [f"{name}:{port}" for name in sorted(names)] + sorted(names)
    origins = [f"{scheme}://{name}:{port}" for name in sorted(names) for scheme in ("http", "https")]
    origins += [f"{scheme}://{name}" for name in sorted(names) for scheme in ("http", "https")]
    return hosts, origins


def http_app(server: LegnextServer, settings: Settings, *, host: str, port: int) -> ASGIApp:
    """The Streamable HTTP app with Host/Origin checks on every bind and the bearer token where required.

    Raises:
        ServeError: a bind off loopback without LEGNEXT_HTTP_TOKEN or LEGNEXT_OAUTH_ISSUER.
    """
    if not is_loopback_host(host) and settings.http_token is None and settings.oauth_issuer is None:
        raise ServeError(f"refusing to serve paid tools on {host} without authentication: set LEGNEXT_HTTP_TOKEN (for "
                         "example python -c \"import secrets; print(secrets.token_urlsafe(32))\") and send it as "
                         "'Authorization: Bearer <token>', or bind to 127.0.0.1")
    hosts, origins = allowed_hosts(host, port)
    if settings.public_url is not None:  # the name users reach the server by, through the balancer
        named = urlsplit(settings.public_url)
        hosts.append(named.netloc)
        origins.append(f"{named.scheme}://{named.netloc}")
    security = TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                         allowed_origins=origins)
    idle = float(os.environ.get("LEGNEXT_HTTP_SESSION_IDLE_S") or SESSION_IDLE_S)
    most = int(os.environ.get("LEGNEXT_HTTP_MAX_SESSIONS") or MAX_SESSIONS)
    inner = server.streamable_http_app(streamable_http_path="/mcp", transport_security=security, host=host,
                                       session_idle_timeout=idle, max_sessions=most,
                                       stateless_http=settings.http_stateless)
    per_client = int(os.environ.get("LEGNEXT_HTTP_MAX_SESSIONS_PER_CLIENT") or min(MAX_SESSIONS_PER_CLIENT, most))
    app: ASGIApp = SessionsPerClient(Explain(inner), per_client=per_client, idle_s=idle)
    if settings.http_token is not None:
        app = BearerToken(app, settings.http_token)
    public = urlsplit(settings.public_url) if settings.public_url else None
    return Edge(app, ready=server.ready, trusted=settings.trusted_proxies,
                news=server.news if public is not None else None, prefixes=("", public.path) if public else ("",),
                inputs=InputStore(settings.inputs_dir) if public is not None else None)
