"""Dialect-neutral operations: what a caller wants done, validated, before any API's wire format.

A dialect turns an operation (and, for follow-ups, its parent job) into its own request; the service
layer prices, records and submits it. Names follow the MCP tools; ``task_type`` is the neutral name of
the job the operation makes (Legnext's endpoint names, which the other dialect maps onto).

Operations check what holds for every API (ranges, URL shape, one-of rules); rules that need the
parent job or the model version (available actions, a remix prompt's flags) are checked when the
parent is known (``core.followups``).

Each operation also carries the neutral facts every dialect shares (what it makes, how often to look at it,
the name its price is configured by), so no dialect or tool restates them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from legnext_mcp.core.ids import JobId
from legnext_mcp.core.limits import (
    BLEND_IMAGES,
    MAX_POLYGON_NUMBERS,
    MAX_POLYGONS,
    BlendAspect,
    CanvasSide,
    ContentType,
    Direction,
    ImageNo,
    ImageUrl,
    Offset,
    OutpaintScale,
    PanScale,
    PolygonSide,
    RemixMode,
    Strength,
    TargetResolution,
    Text,
    UpscaleMode,
    VideoNo,
    VideoResolution,
)
from legnext_mcp.core.prompt import check_prompt, check_remix_text, check_video_prompt
from legnext_mcp.core.urls import urls_in_text

ImagePrompt = Annotated[Text, AfterValidator(check_prompt)]
"""A prompt the API runs as it is: its --flags follow the rules of ``core.prompt`` (default model v7)."""
VideoPrompt = Annotated[Text, AfterValidator(check_video_prompt)]
RemixText = Annotated[Text, AfterValidator(check_remix_text)]
"""A remix prompt: it runs on the parent's model, so here only what no model accepts is refused; the
parent's own rules apply once it is known (``core.followups``)."""
ParentKind = Literal["image", "video"]
#: What a completed job holds: a 2x2 grid of 4 images, one image, text (prompts), or videos.
Output = Literal["grid", "single", "text", "video"]
#: How often to look at a running job of this kind (``core.policy.POLL_PLANS``).
PollClass = Literal["image", "single", "text", "video"]


class _Frozen(BaseModel):
    # defer_build: validators are made on first use, not at import (start-up time)
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# --- shapes ---------------------------------------------------------------------------------------------


class Polygon(_Frozen):
    """A polygon on an image of ``width`` x ``height`` pixels; ``points`` is x1,y1,x2,y2,... clockwise."""

    width: PolygonSide
    height: PolygonSide
    points: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=6, max_length=MAX_POLYGON_NUMBERS)]

    @model_validator(mode="after")
    def _points_fit(self) -> Polygon:
        if len(self.points) % 2:
            raise ValueError("points must be x,y pairs (an even count)")
        if max(self.points[0::2]) > self.width or max(self.points[1::2]) > self.height:
            raise ValueError("every point must lie inside width x height")
        return self


class Mask(_Frozen):
    """Where to repaint: polygons, or a black-and-white mask image (white = repaint); exactly one."""

    areas: Annotated[list[Polygon], Field(min_length=1, max_length=MAX_POLYGONS)] | None = None
    url: ImageUrl | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Mask:
        if (self.areas is None) == (self.url is None):
            raise ValueError("give exactly one of mask.areas (polygons) or mask.url (a mask image)")
        return self


class Canvas(_Frozen):
    width: CanvasSide
    height: CanvasSide


class CanvasImage(_Frozen):
    """Size and offset of the source image on the canvas."""

    width: CanvasSide
    height: CanvasSide
    x: Offset
    y: Offset


def check_on_canvas(canvas: Canvas, image: CanvasImage) -> None:
    if image.x + image.width <= 0 or image.y + image.height <= 0 or image.x >= canvas.width or \
            image.y >= canvas.height:
        raise ValueError("image_position places the image entirely outside the canvas")


# --- operations -----------------------------------------------------------------------------------------


class Operation(_Frozen):
    """Base of every operation."""

    task_type: ClassVar[str]
    output: ClassVar[Output] = "grid"
    poll: ClassVar[PollClass] = "image"
    #: What ``parent`` must be, for operations that work on an earlier job.
    parent_kind: ClassVar[ParentKind | None] = None

    @classmethod
    def key(cls) -> str:
        """The operation's name in snake case (``VideoUpscale`` -> ``video_upscale``): what a relay's price table
        (LEGNEXT_RELAY_PRICES) names it by, and the name of the job tool that runs it."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    @property
    def parent_id(self) -> str | None:
        value = getattr(self, "parent", None)
        return value if isinstance(value, str) else None

    @property
    def image_no(self) -> int | None:
        """The image (or video) of the parent the operation works on, if any."""
        value = getattr(self, "index", None)
        return value if isinstance(value, int) else None

    @property
    def text(self) -> str | None:
        """The prompt the operation carries, if any."""
        value = getattr(self, "prompt", None)
        return value if isinstance(value, str) else None

    def fetched_urls(self) -> list[str]:
        """URL fields the API will fetch (image prompts inside prompts are found by the caller)."""
        return []


class Imagine(Operation):
    task_type = "diffusion"
    prompt: ImagePrompt


class _OnImage(Operation):
    parent_kind = "image"
    parent: JobId
    index: ImageNo


class Variation(_OnImage):
    task_type = "variation"
    strength: Strength = "subtle"
    prompt: RemixText | None = None


class Upscale(_OnImage):
    task_type = "upscale"
    output = "single"
    poll = "single"
    mode: UpscaleMode = "subtle"


class Reroll(Operation):
    task_type = "reroll"
    parent_kind = "image"
    parent: JobId


class Blend(Operation):
    task_type = "blend"
    image_urls: Annotated[list[ImageUrl], Field(min_length=BLEND_IMAGES[0], max_length=BLEND_IMAGES[1])]
    aspect: BlendAspect = "1:1"

    def fetched_urls(self) -> list[str]:
        return list(self.image_urls)


class Describe(Operation):
    task_type = "describe"
    output = "text"
    poll = "text"
    image_url: ImageUrl

    def fetched_urls(self) -> list[str]:
        return [self.image_url]


class Shorten(Operation):
    """Only the length rule applies: the prompt is text to shorten, not a prompt the API runs."""

    task_type = "shorten"
    output = "text"
    poll = "text"
    prompt: Text


class Pan(_OnImage):
    task_type = "pan"
    direction: Direction
    scale: PanScale = 1.5
    prompt: RemixText | None = None


class Outpaint(_OnImage):
    task_type = "outpaint"
    scale: OutpaintScale = 1.5
    prompt: RemixText | None = None


class Inpaint(_OnImage):
    task_type = "inpaint"
    mask: Mask
    prompt: RemixText | None = None

    def fetched_urls(self) -> list[str]:
        return [self.mask.url] if self.mask.url else []


class Remix(_OnImage):
    task_type = "remix"
    prompt: RemixText
    mode: RemixMode = "strong"


class Edit(_OnImage):
    task_type = "edit"
    canvas: Canvas
    position: CanvasImage
    prompt: RemixText
    mask: Mask | None = None

    @model_validator(mode="after")
    def _fits(self) -> Edit:
        check_on_canvas(self.canvas, self.position)
        return self

    def fetched_urls(self) -> list[str]:
        return [self.mask.url] if self.mask and self.mask.url else []


class UploadPaint(Operation):
    task_type = "upload-paint"
    image_url: ImageUrl
    canvas: Canvas
    position: CanvasImage
    prompt: ImagePrompt
    mask: Mask

    @model_validator(mode="after")
    def _fits(self) -> UploadPaint:
        check_on_canvas(self.canvas, self.position)
        return self

    def fetched_urls(self) -> list[str]:
        return [self.image_url, *([self.mask.url] if self.mask.url else [])]


class Retexture(Operation):
    task_type = "retexture"
    image_url: ImageUrl
    prompt: ImagePrompt

    def fetched_urls(self) -> list[str]:
        return [self.image_url]


class RemoveBackground(Operation):
    task_type = "remove-background"
    output = "single"
    poll = "single"
    image_url: ImageUrl

    def fetched_urls(self) -> list[str]:
        return [self.image_url]


class Enhance(_OnImage):
    """Only for parents made with ``--v 7 --draft`` (23-enhance.md)."""

    task_type = "enhance"
    output = "single"
    poll = "single"


def _one_source(parent: str | None, index: int | None, image_url: str | None) -> None:
    from_job = parent is not None or index is not None
    if from_job and (parent is None or index is None):
        raise ValueError("working on an earlier job's image needs both job_id and image_no")
    if from_job == (image_url is not None):
        raise ValueError("give exactly one source: job_id with image_no, or image_url")


class EnhanceUpscale(Operation):
    """Topaz upscale (27-topaz-upscale-image.md): an image of an earlier job, or an image URL."""

    task_type = "enhance-upscale"
    output = "single"
    poll = "single"
    parent_kind = "image"
    parent: JobId | None = None
    index: ImageNo | None = None
    image_url: ImageUrl | None = None
    resolution: TargetResolution = "2K"
    content: ContentType = "standard"

    @model_validator(mode="after")
    def _source(self) -> EnhanceUpscale:
        _one_source(self.parent, self.index, self.image_url)
        return self

    def fetched_urls(self) -> list[str]:
        return [self.image_url] if self.image_url else []


class VideoDiffusion(Operation):
    """Animate an image of an earlier job, or an image URL (24-video-diffusion.md)."""

    task_type = "video-diffusion"
    output = "video"
    poll = "video"
    parent_kind = "image"
    parent: JobId | None = None
    index: ImageNo | None = None
    image_url: ImageUrl | None = None
    prompt: VideoPrompt | None = None
    resolution: VideoResolution = "480p"

    @model_validator(mode="after")
    def _source(self) -> VideoDiffusion:
        _one_source(self.parent, self.index, self.image_url)
        return self

    def fetched_urls(self) -> list[str]:
        return [self.image_url] if self.image_url else []


class ExtendVideo(Operation):
    task_type = "extend-video"
    output = "video"
    poll = "video"
    parent_kind = "video"
    parent: JobId
    index: VideoNo
    prompt: VideoPrompt | None = None


class VideoUpscale(Operation):
    task_type = "video-upscale"
    output = "video"
    poll = "video"
    parent_kind = "video"
    parent: JobId
    index: VideoNo


#: Every operation, in the documented order of the endpoints.
OPERATIONS: tuple[type[Operation], ...] = (
    Imagine, Variation, Upscale, Reroll, Blend, Describe, Shorten, Pan, Outpaint, Inpaint, Remix, Edit,
    UploadPaint, Retexture, RemoveBackground, Enhance, EnhanceUpscale, VideoDiffusion, ExtendVideo, VideoUpscale,
)
#: Task type -> what made it (Remix and Variation both make variations; the first row of a type wins).
BY_TASK_TYPE: dict[str, type[Operation]] = {}
for _op in OPERATIONS:
    BY_TASK_TYPE.setdefault(_op.task_type, _op)
VIDEO_TASKS = frozenset(op.task_type for op in OPERATIONS if op.output == "video")
TEXT_TASKS = frozenset(op.task_type for op in OPERATIONS if op.output == "text")


def made_by(task_type: str | None) -> type[Operation] | None:
    """The operation that makes a task type, in either spelling (``video_diffusion``/``video-diffusion``)."""
    return BY_TASK_TYPE.get((task_type or "").replace("_", "-"))


def image_prompt_urls(op: Operation) -> list[str]:
    """URLs at the start of a prompt or in its reference flags: the API fetches those too."""
    return urls_in_text([op.text] if op.text else [])


def dump(op: Operation) -> dict[str, Any]:
    """The operation as JSON-able data (what the ledger keeps as the caller's intent)."""
    return {"operation": type(op).__name__, **op.model_dump(mode="json", exclude_none=True)}

