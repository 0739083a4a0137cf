"""The relay over HTTP: submit, fetch, list, and the images a request carries inline. Every request goes
through ``legnext_mcp.http`` (never pay twice, retries, the key only to the relay's origin, capped and
redacted answers); every download through the credential-free, address-checked client."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import httpx2
from pydantic import ValidationError

from legnext_mcp.core import policy
from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    BadRequestError,
    LegnextError,
    LocalValidationError,
    NotFoundError,
    SubmissionUncertainError,
)
from legnext_mcp.core.ids import check_job_id
from legnext_mcp.core.keys import check_key
from legnext_mcp.core.media import sniff
from legnext_mcp.core.operations import Mask
from legnext_mcp.core.policy import RequestKind
from legnext_mcp.core.urls import is_public_url
from legnext_mcp.dialects.mjproxy import wire
from legnext_mcp.http.download import Download, Downloader
from legnext_mcp.http.transport import ApiProfile, ApiTransport, HeaderAuth

SERVICE = "the relay"


def read_error(body: Any) -> tuple[str | None, str | None]:
    """The message of a relay error: new-api's ``{"error": {"message"}}``, the proxy's ``{description}`` or a
    bare ``{message}``."""
    if not isinstance(body, Mapping):
        return None, None
    nested = body.get("error")
    if isinstance(nested, Mapping) and isinstance(nested.get("message"), str):
        return nested["message"], None
    for name in ("description", "message"):
        if isinstance(body.get(name), str) and body[name]:
            return body[name], None
    return None, None


PROFILE = ApiProfile(service=SERVICE, key_help="the key is the one your relay gave you",
                     concurrency_help="The relay limits how many jobs run at once", read_error=read_error)


class MjProxyClient:
    """One relay at ``base_url`` (with any mode prefix it gave, e.g. ``/mj-fast``), authenticated both ways
    relays accept: a bearer token (new-api) and ``mj-api-secret`` (a bare proxy)."""

    def __init__(self, api_key: str, *, base_url: str, transport: httpx2.AsyncBaseTransport | None = None,
                 download_transport: httpx2.AsyncBaseTransport | None = None, clock: Clock | None = None,
                 download_max_bytes: int = policy.DOWNLOAD_MAX_BYTES) -> None:
        key = check_key(api_key, dialect="mj-proxy")
        self.base_url = base_url.rstrip("/")
        self.clock = clock or Clock()
        self.http = ApiTransport(self.base_url, auth=HeaderAuth({"authorization": f"Bearer {key}",
                                                                 "mj-api-secret": key}, key=key),
                                 secret=key, profile=PROFILE, transport=transport, clock=self.clock)
        # A relay's images are public; the simulator serves its own from loopback.
        self.downloader = Downloader(local_origin=None if is_public_url(self.base_url) else self.base_url,
                                     transport=download_transport,
                                     max_bytes=download_max_bytes)

    def __repr__(self) -> str:
        return f"MjProxyClient(base_url={self.base_url!r}, api_key='***')"

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.downloader.aclose()

    async def submit(self, endpoint: str, body: dict[str, Any]) -> wire.SubmitAnswer:
        """POST ``/mj/submit/<endpoint>`` once.

        Raises: NotFoundError (an action on a task the relay no longer has), BadRequestError (a relay without the
        endpoint), SubmissionUncertainError (no readable answer), and the rest of the request loop's errors.
        """
        try:
            raw = await self.http.request(RequestKind.CREATE, "POST", f"mj/submit/{endpoint}", json_body=body)
        except NotFoundError as exc:  # a 404 made nothing: say which it was, an old relay or a gone parent
            reason = str(exc.message).split("(", 1)[-1].split(")", 1)[0][:200]
            if endpoint in ("action", "modal"):
                raise NotFoundError(f"The relay no longer has the task this follows up ({reason}); nothing was "
                                    "made or charged. Make a new job and follow up on that.", status=404) from None
            raise BadRequestError(f"This relay has no /mj/submit/{endpoint} (HTTP 404: {reason}), so it does not "
                                  "offer this tool; nothing was made or charged.", status=404) from None
        try:
            return wire.SubmitAnswer.model_validate(raw)
        except ValidationError:
            raise SubmissionUncertainError("The relay sent an answer we could not read; the job may have been "
                                           "created and was not re-sent. Check recent jobs before submitting "
                                           "again.") from None

    async def fetch(self, task_id: str) -> Any:
        """``GET /mj/task/{id}/fetch``: the task as the relay sent it (unparsed).

        Raises: NotFoundError (new-api answers an unknown id with ``{"code": 4}``), and the request loop's errors.
        """
        check_job_id(task_id)
        raw = await self.http.request(RequestKind.READ, "GET", f"mj/task/{task_id}/fetch")
        if isinstance(raw, Mapping) and "id" not in raw and "code" in raw:  # new-api: {"code": 4, "task_no_found"}
            raise NotFoundError(f"The relay has no task {task_id} ({str(raw.get('description'))[:80]}); check the "
                                "id (list_jobs shows recent ones).", status=200, job_id=task_id)
        return raw

    async def list_tasks(self, task_ids: list[str]) -> list[Any]:
        """``POST /mj/task/list-by-condition``: the tasks asked for, as the relay sent them (at most 500 read)."""
        for task_id in task_ids:
            check_job_id(task_id)
        raw = await self.http.request(RequestKind.READ, "POST", "mj/task/list-by-condition",
                                      json_body={"ids": task_ids})
        return raw[:500] if isinstance(raw, list) else []

    async def inline(self, url: str) -> str:
        """An image the relay takes inline, as a ``data:`` URL.

        Raises: LocalValidationError (it could not be fetched, or is not an image: nothing was sent).
        """
        if url.startswith("data:image/"):  # a local picture, already read and checked (service.inputs)
            return url
        try:
            download = await self.downloader.fetch(url)
        except LegnextError as exc:
            raise LocalValidationError(f"could not fetch {url[:100]} to send it to the relay: {exc.message}") from None
        kind = sniff(download.content)
        if kind is None or not kind.startswith("image/"):
            raise LocalValidationError(f"{url[:100]} is not an image (PNG, JPEG, WebP, GIF); nothing was sent.")
        return f"data:{kind};base64,{base64.b64encode(download.content).decode()}"

    async def mask(self, mask: Mask) -> str:
        """A Vary (Region) mask as the modal takes it: the mask image, or the polygons drawn white on black."""
        if mask.url is not None:
            return await self.inline(mask.url)
        assert mask.areas
        from PIL import Image, ImageDraw  # Pillow only for the calls that draw

        first = mask.areas[0]
        image = Image.new("L", (first.width, first.height), 0)
        draw = ImageDraw.Draw(image)
        for area in mask.areas:  # white = repaint, in the first polygon's pixel space
            sx, sy = first.width / area.width, first.height / area.height
            draw.polygon([(x * sx, y * sy) for x, y in zip(area.points[0::2], area.points[1::2], strict=True)],
                         fill=255)
        out = io.BytesIO()
        image.save(out, format="PNG")
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()

    async def download(self, url: str, *, max_bytes: int | None = None) -> Download:
        return await self.downloader.fetch(url, max_bytes=max_bytes)
