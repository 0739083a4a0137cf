"""The simulator as an ASGI app: the Legnext API under ``/api``, output files under ``/cdn``, and test
controls under ``/_sandbox``. The same app serves in-process tests (``httpx2.ASGITransport``) and a
loopback port (``legnext-mcp sandbox``)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from legnext_mcp.sandbox import media
from legnext_mcp.sandbox.endpoints import ENDPOINTS
from legnext_mcp.sandbox.engine import Engine, flat_error
from legnext_mcp.sandbox.faults import Fault


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    had_api_key: bool
    body: bytes


@dataclass
class Stats:
    """What reached the simulator: every request, and the jobs it created counted per identical request
    body (a count above 1 for a body sent once by the caller is a job paid twice)."""

    requests: list[RequestRecord] = field(default_factory=list)
    submissions: Counter[tuple[str, str]] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, had_key: bool, body: bytes) -> None:
        with self._lock:
            self.requests.append(RequestRecord(method, path, had_key, body))

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
        return {"requests": self.count(), "posts": self.count("POST", "/api/v1/"),
                "gets": self.count("GET", "/api/"), "max_identical_submissions": self.max_identical_submissions()}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


class SandboxApp:
    """ASGI app around an :class:`Engine`, recording requests and applying injected faults."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or Engine()
        self.stats = Stats()
        routes = [Route(f"/api/v1/{name}", self._submit, methods=["POST"]) for name in ENDPOINTS]
        routes += [
            Route("/api/v1/job/{job_id}", self._get_job, methods=["GET"]),
            Route("/api/account/balance", self._balance, methods=["GET"]),
            Route("/cdn/{kind:str}/{name:str}", self._file, methods=["GET"]),
            Route("/_sandbox/faults", self._faults, methods=["POST", "DELETE"]),
            Route("/_sandbox/advance", self._advance, methods=["POST"]),
            Route("/_sandbox/stats", self._stats, methods=["GET"]),
        ]
        self._router = Starlette(routes=routes)

    # --- ASGI entry: recording and faults ---------------------------------------------------------

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
        had_key = any(name.lower() == b"x-api-key" for name, _ in scope.get("headers", []))
        self.stats.record(method, path, had_key, body)
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

    async def _misbehave(self, fault: Fault, send: Send, proceed: Any) -> None:
        if fault.kind == "slow":
            await anyio.sleep(fault.delay_s)
            await proceed(send)
        elif fault.kind == "status":
            headers = [(b"content-type", b"application/json")]
            if fault.retry_after is not None:
                headers.append((b"retry-after", str(fault.retry_after).encode()))
            if fault.location is not None:
                headers.append((b"location", fault.location.encode()))
            payload = json.dumps(flat_error(fault.status, "injected fault")).encode()
            await send({"type": "http.response.start", "status": fault.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
        elif fault.kind == "malformed":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": b'{"job_id": "abc", "status": '})
        elif fault.kind == "body":
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", fault.content_type.encode())]})
            chunk = b"<" * 65536
            for start in range(0, fault.size, len(chunk)):
                await send({"type": "http.response.body", "body": chunk[:fault.size - start], "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:  # drop: promise a body and cut it short; the server then closes the connection
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", fault.content_type.encode()), (b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b'{"job_', "more_body": False})

    # --- the API ----------------------------------------------------------------------------------

    def _key(self, request: Request) -> str | None:
        key = request.headers.get("x-api-key", "")
        return key if key in self.engine.accounts else None

    @staticmethod
    def _origin(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def _submit(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return _json(401, flat_error(401, "Failed to verify api key"))
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _json(400, flat_error(400, "request body is not valid JSON"))
        if not isinstance(body, dict):
            return _json(400, flat_error(400, "request body must be a JSON object"))
        name = request.url.path.removeprefix("/api/v1/")
        status, payload = self.engine.submit(key, name, body, self._origin(request))
        if status == 200:
            self.stats.created(request.url.path, raw)
        return _json(status, payload)

    async def _get_job(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return _json(401, flat_error(401, "Failed to verify api key"))
        status, payload = self.engine.get(key, request.path_params["job_id"], self._origin(request))
        return _json(status, payload)

    async def _balance(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return _json(401, flat_error(401, "Failed to verify api key"))
        return _json(200, self.engine.balance(key))

    async def _file(self, request: Request) -> Response:
        kind, name = request.path_params["kind"], request.path_params["name"]
        status, job, message = self.engine.find_file(
            request.url.path, request.query_params.get("Expires", ""), request.query_params.get("Signature", ""))
        if job is None:
            return Response(message, status_code=status, media_type="text/plain")
        stem, _, ext = name.rpartition(".")
        index_text = stem.rsplit("_", 1)[-1]
        prompt, aspect = job.prompt.text, job.prompt.aspect
        if kind == "video" and ext == "mp4" and index_text.isdigit() and int(index_text) < job.outputs:
            data = await anyio.to_thread.run_sync(media.video_mp4, job.job_id, int(index_text), prompt)
            return Response(data, media_type="video/mp4")
        if kind == "mj" and ext == "png" and index_text == "grid":
            data = await anyio.to_thread.run_sync(media.grid_png, job.job_id, prompt, aspect)
            return Response(data, media_type="image/png")
        if kind == "mj" and ext == "png" and index_text.isdigit() and int(index_text) < job.outputs:
            data = await anyio.to_thread.run_sync(media.image_png, job.job_id, int(index_text), prompt, aspect)
            return Response(data, media_type="image/png")
        return Response("no such file", status_code=404, media_type="text/plain")

    # --- test controls ----------------------------------------------------------------------------

    async def _faults(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.engine.faults.clear()
        else:
            try:
                self.engine.faults.add_from_json(json.loads(await request.body()))
            except (ValueError, TypeError) as exc:
                return _json(400, flat_error(400, f"bad fault: {exc}"))
        return _json(200, {"ok": True})

    async def _advance(self, request: Request) -> Response:
        seconds = float(json.loads(await request.body() or b"{}").get("seconds", 0))
        self.engine.clock.advance(seconds)
        return _json(200, {"now": self.engine.clock.now()})

    async def _stats(self, request: Request) -> Response:
        return _json(200, self.stats.as_json())
