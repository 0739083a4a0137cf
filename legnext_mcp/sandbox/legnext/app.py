"""The simulated Legnext API as an ASGI app: the API under ``/api``, output files under ``/cdn``, test
controls under ``/_sandbox`` (``core.asgi``)."""

from __future__ import annotations

import json

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from legnext_mcp.sandbox.core import media
from legnext_mcp.sandbox.core.asgi import RecordingApp, Stats, json_response
from legnext_mcp.sandbox.legnext.endpoints import ENDPOINTS
from legnext_mcp.sandbox.legnext.engine import Engine, flat_error

__all__ = ["SandboxApp", "Stats"]


class SandboxApp(RecordingApp):
    """ASGI app around an :class:`Engine`."""

    engine: Engine

    def __init__(self, engine: Engine | None = None) -> None:
        routes = [Route(f"/api/v1/{name}", self._submit, methods=["POST"]) for name in ENDPOINTS]
        routes += [
            Route("/api/v1/job/{job_id}", self._get_job, methods=["GET"]),
            Route("/api/account/balance", self._balance, methods=["GET"]),
            Route("/api/account/info", self._account_info, methods=["GET"]),
            Route("/api/account/active_tasks", self._active_tasks, methods=["GET"]),
            Route("/cdn/{kind:str}/{name:str}", self._file, methods=["GET"]),
            Route("/_sandbox/instance", self._instance, methods=["GET"]),
        ]
        super().__init__(engine or Engine(), routes, flat_error)

    async def _instance(self, request: Request) -> Response:
        """Which simulated account this is (a digest of its saved secret), so another ``--sandbox`` on the same
        data folder can tell it found this one and not some other service on the port."""
        return json_response(200, {"instance": self.engine.instance})

    def _key(self, request: Request) -> str | None:
        key = request.headers.get("x-api-key", "")
        return key if key in self.engine.accounts else None

    @staticmethod
    def _origin(request: Request) -> str:
        return str(request.base_url).rstrip("/")

    async def _submit(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, flat_error(401, "Failed to verify api key"))
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_response(400, flat_error(400, "request body is not valid JSON"))
        if not isinstance(body, dict):
            return json_response(400, flat_error(400, "request body must be a JSON object"))
        name = request.url.path.removeprefix("/api/v1/")
        status, payload = self.engine.submit(key, name, body, self._origin(request))
        if status == 200:
            self.stats.created(request.url.path, raw)
        return json_response(status, payload)

    async def _get_job(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, flat_error(401, "Failed to verify api key"))
        status, payload = self.engine.get(key, request.path_params["job_id"], self._origin(request))
        return json_response(status, payload)

    async def _balance(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, flat_error(401, "Failed to verify api key"))
        return json_response(200, self.engine.balance(key))

    async def _account_info(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, flat_error(401, "Failed to verify api key"))
        return json_response(200, self.engine.account_info(key))

    async def _active_tasks(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, flat_error(401, "Failed to verify api key"))
        return json_response(200, self.engine.active_tasks(key, self._origin(request)))

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
            enlarge = 2 if job.endpoint.output == "single" else 1  # an upscale is larger than its source
            data = await anyio.to_thread.run_sync(media.image_png, job.job_id, int(index_text), prompt, aspect, enlarge)
            return Response(data, media_type="image/png")
        return json_response(404, flat_error(404, "no such file"))
