"""The simulated midjourney-proxy relay as an ASGI app: ``{prefix}/mj/submit/*``, ``{prefix}/mj/task/*`` and
``{prefix}/mj/image/{id}`` for every mode prefix relays use (none, ``/mj-fast``, ``/mj-relax``, ``/mj-turbo``,
``/fast``), output files under ``/cdn``, test controls under ``/_sandbox`` (``core.asgi``).

Auth as the reference describes it: ``Authorization: Bearer <key>`` (new-api) or ``mj-api-secret: <key>``
(a bare proxy); ``/mj/image/{id}`` needs none (new-api serves it publicly).
"""

from __future__ import annotations

import json
import re
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from legnext_mcp.sandbox.core import media
from legnext_mcp.sandbox.core.asgi import RecordingApp, json_response
from legnext_mcp.sandbox.mjproxy.engine import MjProxyEngine

PREFIXES = ("", "/mj-fast", "/mj-relax", "/mj-turbo", "/fast")
SUBMITS = ("imagine", "describe", "shorten", "blend", "retexture", "video", "action", "modal")
_ASPECT = re.compile(r"--(?:ar|aspect)\s+(\d{1,2}):(\d{1,2})")


def relay_error(status: int, message: str) -> dict[str, Any]:
    """new-api's error shape for requests it refuses before the proxy (auth, routes)."""
    return {"error": {"message": message, "type": "new_api_error", "code": status}}


def _aspect(prompt: str) -> tuple[int, int]:
    found = _ASPECT.search(prompt)
    return (int(found.group(1)) or 1, int(found.group(2)) or 1) if found else (1, 1)


class MjProxyApp(RecordingApp):
    """ASGI app around a :class:`MjProxyEngine`."""

    engine: MjProxyEngine

    def __init__(self, engine: MjProxyEngine | None = None) -> None:
        routes: list[Route] = []
        for prefix in PREFIXES:
            routes += [Route(f"{prefix}/mj/submit/{name}", self._submit, methods=["POST"]) for name in SUBMITS]
            routes += [Route(f"{prefix}/mj/task/{{task_id}}/fetch", self._fetch, methods=["GET"]),
                       Route(f"{prefix}/mj/task/list-by-condition", self._list, methods=["POST"]),
                       Route(f"{prefix}/mj/image/{{task_id}}", self._image, methods=["GET"])]
        routes.append(Route("/cdn/mj/{name:str}", self._cdn, methods=["GET"]))
        super().__init__(engine or MjProxyEngine(), routes, relay_error)

    def _key(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        key = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("mj-api-secret", "")
        return key if key in self.engine.keys else None

    @staticmethod
    def _split(request: Request) -> tuple[str, str]:
        """(origin, mode prefix) of a request."""
        path = request.url.path
        prefix = path[: path.index("/mj/")]
        return str(request.base_url).rstrip("/"), prefix

    async def _submit(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, relay_error(401, "无效的令牌 (invalid token)"))
        raw = await request.body()
        try:
            body = json.loads(raw or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_response(400, relay_error(400, "invalid request body"))
        if not isinstance(body, dict):
            return json_response(400, relay_error(400, "invalid request body"))
        _, prefix = self._split(request)
        name = request.url.path.rsplit("/", 1)[-1]
        status = 200
        if name in ("action", "modal"):
            status, answer = getattr(self.engine, name)(key, body)
        else:
            answer = getattr(self.engine, name)(key, body)
        if answer.get("code") in (1, 22) or (answer.get("code") == 21 and name != "action"):
            self.stats.created(request.url.path, raw)
            self.engine.modes.append(prefix)
        return json_response(status, answer)

    async def _fetch(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, relay_error(401, "无效的令牌 (invalid token)"))
        origin, prefix = self._split(request)
        task = self.engine.fetch(key, request.path_params["task_id"], origin, prefix)
        if task is None:  # new-api answers an unknown id with an error object, not a 404 page
            return json_response(200, {"code": 4, "description": "task_no_found", "result": None})
        return json_response(200, task)

    async def _list(self, request: Request) -> Response:
        key = self._key(request)
        if key is None:
            return json_response(401, relay_error(401, "无效的令牌 (invalid token)"))
        try:
            body = json.loads(await request.body() or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_response(400, relay_error(400, "invalid request body"))
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            return json_response(400, relay_error(400, "ids must be a list"))
        origin, prefix = self._split(request)
        found = [self.engine.fetch(key, str(task_id), origin, prefix) for task_id in ids[:200]]
        return json_response(200, [task for task in found if task is not None])

    async def _image(self, request: Request) -> Response:
        task = self.engine.image(request.path_params["task_id"])
        if task is None or task.action == "VIDEO":
            return json_response(404, relay_error(404, "image not found"))
        return await self._draw(task.id, task.action, task.prompt, "grid")

    async def _cdn(self, request: Request) -> Response:
        stem, _, ext = request.path_params["name"].rpartition(".")
        task_id, _, which = stem.partition("_")
        task = self.engine.image(task_id)
        if task is not None and task.action == "VIDEO" and ext == "mp4" and which.isdigit() and \
                int(which) < int(task.extra.get("batch", 4)):
            data = await anyio.to_thread.run_sync(media.video_mp4, task.id, int(which), task.prompt)
            return Response(data, media_type="video/mp4")
        if task is None or task.action == "VIDEO" or ext != "png" or which not in ("grid", "0", "1", "2", "3"):
            return json_response(404, relay_error(404, "no such file"))
        return await self._draw(task.id, task.action, task.prompt, which)

    @staticmethod
    async def _draw(task_id: str, action: str, prompt: str, which: str) -> Response:
        aspect = _aspect(prompt)
        if action == "UPSCALE":  # an upscale is one image, larger than a grid quadrant
            data = await anyio.to_thread.run_sync(media.image_png, task_id, 0, prompt, aspect, 2)
        elif which == "grid":
            data = await anyio.to_thread.run_sync(media.grid_png, task_id, prompt, aspect)
        else:
            data = await anyio.to_thread.run_sync(media.image_png, task_id, int(which), prompt, aspect, 1)
        return Response(data, media_type="image/png")
