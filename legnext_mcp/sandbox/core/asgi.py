"""What every simulated API shares as an ASGI app: it records what reached it, applies injected faults, and
offers test controls under ``/_sandbox`` (faults, moving the clock, statistics).

The same app serves in-process tests (``httpx2.ASGITransport``) and a loopback port (``LoopbackSandbox``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from legnext_mcp.sandbox.core.faults import Fault, Faults


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    had_api_key: bool
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Stats:
    """What reached the simulator: every request, and the jobs it created counted per identical request
    body (a count above 1 for a body sent once by the caller is a job paid twice)."""

    requests: list[RequestRecord] = field(default_factory=list)
    submissions: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, had_key: bool, body: bytes, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, had_key, body, headers or {}))

    def created(self, path: str, body: bytes) -> None:
        with self._lock:
            self.submissions[(path, hashlib.sha256(body).hexdigest())] += 1

    def count(self, method: str | None = None, prefix: str = "") -> int:
        with self._lock:
            return sum(1 for r in self.requests
                       if (method is None or r.method == method) and r.path.startswith(prefix))

    def max_identical_submissions(self) -> int:
        with self._lock:
            return max(self.submissions.values(), default=0)

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            posts = sum(1 for r in self.requests if r.method == "POST" and not r.path.startswith("/_sandbox"))
            gets = sum(1 for r in self.requests if r.method == "GET" and not r.path.startswith(("/_sandbox", "/cdn")))
        return {"requests": self.count(), "posts": posts, "gets": gets,
                "max_identical_submissions": self.max_identical_submissions()}


class ClockLike(Protocol):
    def now(self) -> float: ...

    def advance(self, seconds: float) -> None: ...


class EngineLike(Protocol):
    @property
    def faults(self) -> Faults: ...

    @property
    def clock(self) -> ClockLike: ...


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


#: Which request headers carry a credential (recorded as "had a key", never stored).
CREDENTIAL_HEADERS = (b"x-api-key", b"authorization", b"mj-api-secret")


class RecordingApp:
    """An ASGI app around an engine's routes that records requests and applies injected faults.

    ``error_body(status, message)`` is the simulated API's own error shape, used for injected statuses and
    for unknown routes.
    """

    def __init__(self, engine: EngineLike, routes: list[Route],
                 error_body: Callable[[int, str], dict[str, Any]]) -> None:
        self.engine = engine
        self.stats = Stats()
        self._error_body = error_body
        routes = [*routes,
                  Route("/_sandbox/faults", self._faults, methods=["POST", "DELETE"]),
                  Route("/_sandbox/advance", self._advance, methods=["POST"]),
                  Route("/_sandbox/stats", self._stats, methods=["GET"])]
        self._router = Starlette(routes=routes, exception_handlers={404: self._not_found, 405: self._not_allowed})

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return json_response(404, self._error_body(404, f"no route for {request.method} {request.url.path[:200]}"))

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        return json_response(405, self._error_body(405, f"{request.method} is not allowed on {request.url.path[:200]}"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._router(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        had_key = any(name.encode() in CREDENTIAL_HEADERS for name in headers)
        shown = {k: v for k, v in headers.items() if k.encode() not in CREDENTIAL_HEADERS}
        self.stats.record(method, path, had_key, body, shown)
        fault = None if path.startswith("/_sandbox") else self.engine.faults.take(method, path)
        if fault is None:
            await self._router(scope, replay, send)
            return
        if fault.after_handling:
            captured: list[Message] = []

            async def capture(message: Message) -> None:
                captured.append(message)

            await self._router(scope, replay, capture)
            await self._misbehave(fault, send, lambda s: self._send_all(captured, s))
        else:
            await self._misbehave(fault, send, lambda s: self._router(scope, replay, s))

    @staticmethod
    async def _send_all(messages: list[Message], send: Send) -> None:
        for message in messages:
            await send(message)

    async def _misbehave(self, fault: Fault, send: Send, proceed: Callable[[Send], Awaitable[None]]) -> None:
        if fault.kind == "slow":
            await anyio.sleep(fault.delay_s)
            await proceed(send)
        elif fault.kind == "status":
            headers = [(b"content-type", b"application/json")]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            if fault.location is not None:
                headers.append((b"location", fault.location.encode()))
            payload = json.dumps(self._error_body(fault.status, "injected fault")).encode()
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
        elif fault.kind == "malformed":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"job_id": "abc", "status": '})
        elif fault.kind in ("body", "json"):
            content_type = b"application/json" if fault.kind == "json" else fault.content_type.encode()
            await send({"type": "http.response.start", "status": fault.status if fault.kind == "json" else 200,
                        "headers": [(b"content-type", content_type)]})
            if fault.kind == "json":  # a given answer, sent whole (hostile upstreams)
                await send({"type": "http.response.body", "body": fault.payload.encode()})
                return
            chunk = (fault.fill or "<").encode() * 65536
            for start in range(0, fault.size, len(chunk)):
                await send({"type": "http.response.body", "body": chunk[:fault.size - start], "more_body": True})
                if fault.delay_s:
                    await anyio.sleep(fault.delay_s)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:  # drop: promise a body and cut it short; the server then closes the connection
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", fault.content_type.encode()), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"job_', "more_body": False})

    # --- test controls ----------------------------------------------------------------------------

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.engine.faults.clear()
        else:
            try:
                self.engine.faults.add_from_json(json.loads(await request.body()))
            except (ValueError, TypeError) as exc:
                return json_response(400, self._error_body(400, f"bad fault: {exc}"))
        return json_response(200, {"ok": True})

    async def _advance(self, request: Request) -> Response:
        seconds = float(json.loads(await request.body() or b"{}").get("seconds", 0))
        self.engine.clock.advance(seconds)
        return json_response(200, {"now": self.engine.clock.now()})

    async def _stats(self, request: Request) -> Response:
        return json_response(200, self.stats.as_json())
