"""The Legnext API, one row per job endpoint: everything the client, the dialect and the tools need to know
of an endpoint is in its row (path, request model, price rule, how the operation becomes the request, whether
the parent must list it). What a job makes and how often to look at it are the operation's
(``core.operations``), shared with every dialect.

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
from typing import Any, Protocol

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
    VideoDiffusion,
    VideoUpscale,
)
from legnext_mcp.core.prompt import ParsedPrompt, parse_prompt
from legnext_mcp.dialects.legnext import wire

TOPAZ_POINTS: dict[str, int] = {"HD": 120, "FHD": 120, "2K": 120, "4K": 160, "6K": 200, "8K": 300, "12K": 540}
#: Assumption (undocumented): 720p video costs twice 480p. Kept here and nowhere else.
HD_VIDEO_FACTOR = 2


def _points(amount: int, basis: str) -> Estimate:
    return Estimate(amount, basis, unit="points", usd=amount / 1000)


class Price(Protocol):
    """A price rule: the price of an operation (given its parent and the parent's prompt), and the same rule in
    words for the tool's description, so the two cannot drift apart."""

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class Flat:
    points: int

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
        return _points(self.points, "documented price")

    @property
    def text(self) -> str:
        return f"{self.points} points"


@dataclass(frozen=True)
class Factor:
    """A multiplier a prompt's flags give an image job's price."""

    words: str
    factor: int
    applies: Callable[[ParsedPrompt], bool]
    why: str


#: What multiplies an image job's price (03-important-information.md and 05-image-parameters.md: turbo
#: "consumes double the GPU time quota", --oref "consumes 2x GPU time"; 04-model-information.md: v8 ``--hd``,
#: ``--q 4`` and ``--sv 6`` 4x, v8.1 a flat 1x).
IMAGE_FACTORS: tuple[Factor, ...] = (
    Factor("turbo", 2, lambda p: "turbo" in p.names, "turbo is 2x"),
    Factor("--oref", 2, lambda p: "oref" in p.names, "--oref is 2x GPU time"),
    Factor("v8 --hd/--q 4/--sv 6", 4, lambda p: p.version == "8" and (
        "hd" in p.names or p.value("q") == "4" or p.value("sv") == "6"), "v8 premium (--hd, --q 4 or --sv 6) is 4x"),
)


def image_factor(prompt: str | None) -> tuple[int, str]:
    """The price multiplier a prompt's flags give an image job, and why."""
    try:
        parsed = parse_prompt(prompt or "x")
    except PromptError:
        return 1, "documented price"
    factor, reasons = 1, list[str]()
    for rule in IMAGE_FACTORS:
        if rule.applies(parsed):
            factor, reasons = factor * rule.factor, [*reasons, rule.why]
    return factor, "; ".join(reasons) or "documented price"


@dataclass(frozen=True)
class ImagePrice:
    """A grid job: its base price times what its prompt's flags multiply it by."""

    base: int

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
        factor, why = image_factor(op.text)
        return _points(self.base * factor, why)

    @property
    def text(self) -> str:
        factors = ", ".join(f"{rule.words} {rule.factor}x" for rule in IMAGE_FACTORS)
        return f"{self.base} points; {factors}"


@dataclass(frozen=True)
class RerollPrice:
    """A reroll runs its parent again "with the same parameters" (11-reroll.md): the parent's price."""

    base: int

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
        if parent is not None and parent.frozen > 0:
            return _points(parent.frozen, "a reroll costs what its parent cost")
        factor, why = image_factor(parent_prompt)
        return _points(self.base * factor, f"a reroll costs what its parent cost ({why})")

    @property
    def text(self) -> str:
        return "Costs what the job cost"


@dataclass(frozen=True)
class TopazPrice:
    """By resolution (27-topaz-upscale-image.md)."""

    points: dict[str, int]

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
        assert isinstance(op, EnhanceUpscale)
        return _points(self.points[op.resolution], f"Topaz {op.resolution}")

    @property
    def text(self) -> str:
        by_price: dict[int, list[str]] = {}
        for resolution, points in self.points.items():
            by_price.setdefault(points, []).append(resolution)
        first, *rest = by_price.items()
        parts = [f"{first[0]} points ({first[1][0]}-{first[1][-1]})" if len(first[1]) > 1 else
                 f"{first[0]} points ({first[1][0]})"]
        parts += [f"{points} ({'/'.join(names)})" for points, names in rest]
        return ", ".join(parts)


def video_batch(prompt: str | None) -> int:
    """Videos a video job makes: ``--bs`` in its prompt, 4 by default."""
    if not prompt:
        return 4
    try:
        value = parse_prompt(prompt, video=True).value("bs")
    except PromptError:
        return 4
    return int(value) if value else 4


def _video_turbo(prompt: str | None) -> bool:
    """Whether a video prompt asks for turbo mode."""
    if not prompt:
        return False
    try:
        return any(name == "turbo" for name, _ in parse_prompt(prompt, video=True).flags)
    except PromptError:
        return False


@dataclass(frozen=True)
class VideoPrice:
    """Per four videos at 480p; ``--bs`` scales it (24-video-diffusion.md); 720p by an assumed factor."""

    per_four: int

    def __call__(self, op: Operation, parent: Job | None, parent_prompt: str | None) -> Estimate:
        assert isinstance(op, VideoDiffusion)
        batch = video_batch(op.text)
        points = self.per_four * batch // 4
        turbo = ""
        if _video_turbo(op.text):  # as image jobs are: the budget is checked against the higher price
            points, turbo = points * 2, "; turbo assumed 2x (undocumented for video)"
        if op.resolution == "720p":
            return _points(points * HD_VIDEO_FACTOR,
                           f"{batch} videos; 720p assumed {HD_VIDEO_FACTOR}x (undocumented){turbo}")
        return _points(points, f"{batch} videos at 480p{turbo}")

    @property
    def text(self) -> str:
        return f"{self.per_four} points for 4 videos (--bs 1|2|4 scales it); 720p assumed {HD_VIDEO_FACTOR}x"


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
    """One job endpoint of the Legnext API (what it makes and how often to look at it are the operation's:
    ``core.operations``)."""

    operation: type[Operation]
    #: The path below the API base; its last part is also the task type (``/v1/upload-paint``).
    path: str
    request: type[wire.JobRequest]
    price: Price
    #: Operation -> the request model's fields.
    build: Callable[[Any], dict[str, Any]]
    #: The parent's ``available_actions`` must list the image under the operation's name (otherwise the image
    #: must merely exist).
    listed: bool = False

    @property
    def task_type(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def follow_up(self) -> str | None:
        """The key of the parent's ``available_actions`` that must list the image, if any."""
        return self.operation.key() if self.listed else None


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(Imagine, "/v1/diffusion", wire.DiffusionRequest, ImagePrice(80),
             lambda op: {"text": op.prompt}),
    Endpoint(Variation, "/v1/variation", wire.VariationRequest, Flat(120), _build_variation,
             listed=True),
    Endpoint(Upscale, "/v1/upscale", wire.UpscaleRequest, Flat(120),
             lambda op: {**_on_image(op), "type": wire.UpscaleType.CREATIVE if op.mode == "creative"
                         else wire.UpscaleType.SUBTLE}, listed=True),
    Endpoint(Reroll, "/v1/reroll", wire.RerollRequest, RerollPrice(80),
             lambda op: {"job_id": op.parent}, listed=True),
    Endpoint(Blend, "/v1/blend", wire.BlendRequest, Flat(80),
             lambda op: {"image_urls": op.image_urls, "aspect_ratio": op.aspect}),
    Endpoint(Describe, "/v1/describe", wire.DescribeRequest, Flat(20),
             lambda op: {"image_url": op.image_url}),
    Endpoint(Shorten, "/v1/shorten", wire.ShortenRequest, Flat(20),
             lambda op: {"prompt": op.prompt}),
    Endpoint(Pan, "/v1/pan", wire.PanRequest, Flat(80),
             lambda op: {**_on_image(op), "direction": wire.PanDirection[op.direction.upper()], "scale": op.scale,
                         "remix_prompt": _remix_text(op)}, listed=True),
    Endpoint(Outpaint, "/v1/outpaint", wire.OutpaintRequest, Flat(80),
             lambda op: {**_on_image(op), "scale": op.scale, "remix_prompt": _remix_text(op)}, listed=True),
    Endpoint(Inpaint, "/v1/inpaint", wire.InpaintRequest, Flat(120),
             lambda op: {**_on_image(op), "mask": _mask(op), "remix_prompt": _remix_text(op)}, listed=True),
    Endpoint(Remix, "/v1/remix", wire.RemixRequest, Flat(120),
             lambda op: {**_on_image(op), "remix_prompt": op.prompt,
                         "mode": wire.RemixMode.SUBTLE if op.mode == "subtle" else wire.RemixMode.STRONG},
             listed=True),
    Endpoint(Edit, "/v1/edit", wire.EditRequest, Flat(120),
             lambda op: {**_on_image(op), "canvas": op.canvas.model_dump(), "image_position": op.position.model_dump(),
                         "remix_prompt": op.prompt, "mask": _mask(op)}, listed=True),
    Endpoint(UploadPaint, "/v1/upload-paint", wire.UploadPaintRequest, Flat(120),
             lambda op: {"image_url": op.image_url, "canvas": op.canvas.model_dump(),
                         "image_position": op.position.model_dump(), "remix_prompt": op.prompt, "mask": _mask(op)}),
    Endpoint(Retexture, "/v1/retexture", wire.RetextureRequest, Flat(120),
             lambda op: {"image_url": op.image_url, "remix_prompt": op.prompt}),
    Endpoint(RemoveBackground, "/v1/remove-background", wire.RemoveBackgroundRequest, Flat(80),
             lambda op: {"image_url": op.image_url}),
    Endpoint(Enhance, "/v1/enhance", wire.EnhanceRequest, Flat(80), _on_image),
    Endpoint(EnhanceUpscale, "/v1/enhance-upscale", wire.EnhanceUpscaleRequest, TopazPrice(TOPAZ_POINTS),
             _build_topaz),
    Endpoint(VideoDiffusion, "/v1/video-diffusion", wire.VideoDiffusionRequest, VideoPrice(480), _build_video),
    Endpoint(ExtendVideo, "/v1/extend-video", wire.ExtendVideoRequest, Flat(480),
             lambda op: {"job_id": op.parent, "video_no": op.index, "prompt": op.prompt}),
    Endpoint(VideoUpscale, "/v1/video-upscale", wire.VideoUpscaleRequest, Flat(480),
             lambda op: {"job_id": op.parent, "video_no": op.index}),
)
BY_OPERATION: dict[type[Operation], Endpoint] = {e.operation: e for e in ENDPOINTS}
BY_REQUEST: dict[type[wire.JobRequest], Endpoint] = {e.request: e for e in ENDPOINTS}


def endpoint_of(request: wire.JobRequest) -> Endpoint:
    """The row of a request model."""
    return BY_REQUEST[type(request)]
