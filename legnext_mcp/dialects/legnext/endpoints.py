"""The Legnext API, one row per job endpoint: everything the client, the dialect and the tools need to know
of an endpoint is in its row (path, request model, what it makes, poll class, follow-up rule, price).

Prices (1 point = $0.001; failed jobs consume nothing), from the ``frozen`` values of each endpoint page's
example and: 03-important-information.md and 05-image-parameters.md (turbo "consumes double the GPU time
quota", --oref "consumes 2x GPU time"), 04-model-information.md (v8 ``--hd``/``--q 4``/``--sv 6`` 4x, v8.1 a
flat 1x), 11-reroll.md (a reroll runs the parent again "with the same parameters": the parent's price),
24-video-diffusion.md (``--bs`` scales the price) and 27-topaz-upscale-image.md (by resolution). Where the
docs are silent the assumption is named in its rule (720p video; see README "Where the docs disagree").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from legnext_mcp.core.errors import PromptError
from legnext_mcp.core.job import Job
from legnext_mcp.core.money import Estimate
from legnext_mcp.core.operations import (
    Blend,
    Describe,
    Edit,
    Enhance,
    EnhanceUpscale,
    ExtendVideo,
    Imagine,
    Inpaint,
    Operation,
    Outpaint,
    Pan,
    Remix,
    RemoveBackground,
    Reroll,
    Retexture,
    Shorten,
    UploadPaint,
    Upscale,
    Variation,
    Video,
    VideoUpscale,
)
from legnext_mcp.core.prompt import parse_prompt
from legnext_mcp.dialects.legnext import wire

Output = Literal["grid", "single", "text", "video"]
#: (operation, parent job or None, the parent's prompt or None) -> the price.
PriceRule = Callable[[Operation, Job | None, str | None], Estimate]

TOPAZ_POINTS: dict[str, int] = {"HD": 120, "FHD": 120, "2K": 120, "4K": 160, "6K": 200, "8K": 300, "12K": 540}
#: Assumption (undocumented): 720p video costs twice 480p. Kept here and nowhere else.
HD_VIDEO_FACTOR = 2


def _points(amount: int, basis: str) -> Estimate:
    return Estimate(amount, basis, unit="points", usd=amount / 1000)


def image_factor(prompt: str | None) -> tuple[int, str]:
    """The price multiplier a prompt's flags give an image job, and why."""
    try:
        parsed = parse_prompt(prompt or "x")
    except PromptError:
        return 1, "documented price"
    factor, reasons = 1, list[str]()
    if parsed.version == "8" and ({"hd"} & parsed.names or parsed.value("q") == "4" or parsed.value("sv") == "6"):
        factor, reasons = factor * 4, [*reasons, "v8 premium (--hd, --q 4 or --sv 6) is 4x"]
    if "turbo" in parsed.names:
        factor, reasons = factor * 2, [*reasons, "turbo is 2x"]
    if "oref" in parsed.names:
        factor, reasons = factor * 2, [*reasons, "--oref is 2x GPU time"]
    return factor, "; ".join(reasons) or "documented price"


def flat(points: int) -> PriceRule:
    return lambda op, parent, parent_prompt: _points(points, "documented price")


def _diffusion_price(op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
    factor, why = image_factor(op.text)
    return _points(80 * factor, why)


def _reroll_price(op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
    if parent is not None and parent.frozen > 0:
        return _points(parent.frozen, "a reroll costs what its parent cost")
    factor, why = image_factor(parent_prompt)
    return _points(80 * factor, f"a reroll costs what its parent cost ({why})")


def _topaz_price(op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
    assert isinstance(op, EnhanceUpscale)
    return _points(TOPAZ_POINTS[op.resolution], f"Topaz {op.resolution}")


def video_batch(prompt: str | None) -> int:
    """Videos a video job makes: ``--bs`` in its prompt, 4 by default."""
    if not prompt:
        return 4
    try:
        value = parse_prompt(prompt, video=True).value("bs")
    except PromptError:
        return 4
    return int(value) if value else 4


def _video_price(op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
    assert isinstance(op, Video)
    batch = video_batch(op.text)
    points = 480 * batch // 4
    if op.resolution == "720p":
        return _points(points * HD_VIDEO_FACTOR, f"{batch} videos; 720p assumed {HD_VIDEO_FACTOR}x (undocumented)")
    return _points(points, f"{batch} videos at 480p")


def _remix_text(op: Operation) -> str | None:
    return op.text or None


# --- operation -> request fields ------------------------------------------------------------------------


def _on_image(op: Any) -> dict[str, Any]:
    return {"job_id": op.parent, "image_no": op.index}


def _mask(op: Inpaint | Edit | UploadPaint) -> dict[str, Any] | None:
    return op.mask.model_dump(exclude_none=True) if op.mask is not None else None


def _build_variation(op: Any) -> dict[str, Any]:
    kind = wire.VariationType.STRONG if op.strength == "strong" else wire.VariationType.SUBTLE
    return {**_on_image(op), "type": kind, "remix_prompt": _remix_text(op)}


def _build_video(op: Any) -> dict[str, Any]:
    kind = wire.VideoType.HD_720P if op.resolution == "720p" else wire.VideoType.SD_480P
    if op.image_url is not None:  # the documented second mode: "<image_url> prompt"
        return {"prompt": f"{op.image_url} {op.prompt or ''}".strip(), "video_type": kind}
    return {"job_id": op.parent, "image_no": op.index, "prompt": op.prompt, "video_type": kind}


def _build_topaz(op: Any) -> dict[str, Any]:
    source = {"image_url": op.image_url} if op.image_url is not None else _on_image(op)
    return {**source, "target_resolution": op.resolution, "content_type": op.content}


@dataclass(frozen=True)
class Endpoint:
    """One job endpoint of the Legnext API."""

    operation: type[Operation]
    #: The path below the API base; its last part is also the task type (``/v1/upload-paint``).
    path: str
    request: type[wire.JobRequest]
    #: What a completed job holds: a 2x2 grid of 4 images, one image, prompts, or videos.
    output: Output
    #: How often to look at a running job (``core.policy.POLL_PLANS``).
    poll: str
    price: PriceRule
    #: Operation -> the request model's fields.
    build: Callable[[Any], dict[str, Any]]
    #: The key of the parent's ``available_actions`` that must list the image (None: the image must exist).
    follow_up: str | None = None

    @property
    def task_type(self) -> str:
        return self.path.rsplit("/", 1)[-1]


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(Imagine, "/v1/diffusion", wire.DiffusionRequest, "grid", "image", _diffusion_price,
             lambda op: {"text": op.prompt}),
    Endpoint(Variation, "/v1/variation", wire.VariationRequest, "grid", "image", flat(120), _build_variation,
             follow_up="variation"),
    Endpoint(Upscale, "/v1/upscale", wire.UpscaleRequest, "single", "single", flat(120),
             lambda op: {**_on_image(op), "type": wire.UpscaleType.CREATIVE if op.mode == "creative"
                         else wire.UpscaleType.SUBTLE}, follow_up="upscale"),
    Endpoint(Reroll, "/v1/reroll", wire.RerollRequest, "grid", "image", _reroll_price,
             lambda op: {"job_id": op.parent}, follow_up="reroll"),
    Endpoint(Blend, "/v1/blend", wire.BlendRequest, "grid", "image", flat(80),
             lambda op: {"image_urls": op.image_urls, "aspect_ratio": op.aspect}),
    Endpoint(Describe, "/v1/describe", wire.DescribeRequest, "text", "text", flat(20),
             lambda op: {"image_url": op.image_url}),
    Endpoint(Shorten, "/v1/shorten", wire.ShortenRequest, "text", "text", flat(20),
             lambda op: {"prompt": op.prompt}),
    Endpoint(Pan, "/v1/pan", wire.PanRequest, "grid", "image", flat(80),
             lambda op: {**_on_image(op), "direction": wire.PanDirection[op.direction.upper()], "scale": op.scale,
                         "remix_prompt": _remix_text(op)}, follow_up="pan"),
    Endpoint(Outpaint, "/v1/outpaint", wire.OutpaintRequest, "grid", "image", flat(80),
             lambda op: {**_on_image(op), "scale": op.scale, "remix_prompt": _remix_text(op)}, follow_up="outpaint"),
    Endpoint(Inpaint, "/v1/inpaint", wire.InpaintRequest, "grid", "image", flat(120),
             lambda op: {**_on_image(op), "mask": _mask(op), "remix_prompt": _remix_text(op)}, follow_up="inpaint"),
    Endpoint(Remix, "/v1/remix", wire.RemixRequest, "grid", "image", flat(120),
             lambda op: {**_on_image(op), "remix_prompt": op.prompt,
                         "mode": wire.RemixMode.SUBTLE if op.mode == "subtle" else wire.RemixMode.STRONG},
             follow_up="remix"),
    Endpoint(Edit, "/v1/edit", wire.EditRequest, "grid", "image", flat(120),
             lambda op: {**_on_image(op), "canvas": op.canvas.model_dump(), "image_position": op.position.model_dump(),
                         "remix_prompt": op.prompt, "mask": _mask(op)}, follow_up="edit"),
    Endpoint(UploadPaint, "/v1/upload-paint", wire.UploadPaintRequest, "grid", "image", flat(120),
             lambda op: {"image_url": op.image_url, "canvas": op.canvas.model_dump(),
                         "image_position": op.position.model_dump(), "remix_prompt": op.prompt, "mask": _mask(op)}),
    Endpoint(Retexture, "/v1/retexture", wire.RetextureRequest, "grid", "image", flat(120),
             lambda op: {"image_url": op.image_url, "remix_prompt": op.prompt}),
    Endpoint(RemoveBackground, "/v1/remove-background", wire.RemoveBackgroundRequest, "single", "single", flat(80),
             lambda op: {"image_url": op.image_url}),
    Endpoint(Enhance, "/v1/enhance", wire.EnhanceRequest, "single", "single", flat(80), _on_image),
    Endpoint(EnhanceUpscale, "/v1/enhance-upscale", wire.EnhanceUpscaleRequest, "single", "single", _topaz_price,
             _build_topaz),
    Endpoint(Video, "/v1/video-diffusion", wire.VideoDiffusionRequest, "video", "video", _video_price, _build_video),
    Endpoint(ExtendVideo, "/v1/extend-video", wire.ExtendVideoRequest, "video", "video", flat(480),
             lambda op: {"job_id": op.parent, "video_no": op.index, "prompt": op.prompt}),
    Endpoint(VideoUpscale, "/v1/video-upscale", wire.VideoUpscaleRequest, "video", "video", flat(480),
             lambda op: {"job_id": op.parent, "video_no": op.index}),
)
BY_OPERATION: dict[type[Operation], Endpoint] = {e.operation: e for e in ENDPOINTS}
BY_REQUEST: dict[type[wire.JobRequest], Endpoint] = {e.request: e for e in ENDPOINTS}
BY_TASK_TYPE: dict[str, Endpoint] = {e.task_type: e for e in ENDPOINTS}


def endpoint_of(request: wire.JobRequest) -> Endpoint:
    """The row of a request model."""
    return BY_REQUEST[type(request)]


def row_for_task(task_type: str | None) -> Endpoint | None:
    """The row of a task type in either spelling (``video_diffusion``/``video-diffusion``)."""
    return BY_TASK_TYPE.get((task_type or "").replace("_", "-"))
