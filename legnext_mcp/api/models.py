"""Wire models of the Legnext API: one request model per job endpoint, the job, the balance.

Requests are strict: every documented range and enum is checked here, so a bad request fails before it
costs anything. Field names are snake_case in Python and serialise to the API's own mix of camelCase
and snake_case (``jobId``, ``imageNo``, ``imgUrls``, ``aspect_ratio``, ``target_resolution``...).

Responses are tolerant: unknown fields are kept, Go zero times and empty strings become ``None``,
``null`` lists become empty lists and task types are normalised to the endpoint's hyphenated name.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from legnext_mcp.api.errors import InvalidRequestError
from legnext_mcp.api.prompt import MAX_PROMPT_CHARS, MAX_URL_CHARS, check_prompt, check_video_prompt

# --- shared field types ----------------------------------------------------------------------------


def _check_http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL such as https://example.com/image.png")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials (user:password@)")
    return value


def is_http_url(value: str) -> bool:
    """Whether ``value`` is an absolute http(s) URL without credentials (what image URL fields take)."""
    try:
        _check_http_url(value)
    except ValueError:
        return False
    return True


def is_public_url(value: str) -> bool:
    """Whether an http(s) URL names a public host (not localhost, private, loopback or link-local).

    Numeric hosts in any form a resolver accepts (``2130706433``, ``0x7f.1``, ``127.1``) are read as the
    address they stand for. Not applied by the request models (the sandbox serves images from
    127.0.0.1); the server applies it to URLs it sends or fetches, unless the API base itself is local.
    """
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if all(part.isdigit() or part.startswith("0x") for part in host.split(".")):
        try:  # inet_aton takes the shorthand and hex forms that ip_address refuses
            return ipaddress.ip_address(socket.inet_aton(host)).is_global
        except OSError:
            return False
    return True


_URL_IN_TEXT = re.compile(r"https?://[^\s,]+", re.IGNORECASE)


def urls_in(request: BaseModel) -> list[str]:
    """Every http(s) URL a request hands the API to fetch: URL fields and image prompts in its text."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.extend(_URL_IN_TEXT.findall(value))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(request.model_dump(mode="json"))
    return found


HttpUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(_check_http_url)]
"""An http(s) URL of at most 1024 characters (the documented limit for image URLs)."""

ImageUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(_check_http_url)]
"""An image the API must download: an http(s) URL of at most 1024 characters."""

Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS)]
ImagePrompt = Annotated[Prompt, AfterValidator(check_prompt)]
"""A prompt whose --flags follow the model rules of legnext_mcp.api.prompt."""
VideoPrompt = Annotated[Prompt, AfterValidator(check_video_prompt)]
JobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
ImageNo = Annotated[int, Field(ge=0, le=3)]
PixelSize = Annotated[int, Field(ge=1, le=8192)]


class VariationType(IntEnum):
    SUBTLE = 0
    STRONG = 1


class UpscaleType(IntEnum):
    SUBTLE = 0
    CREATIVE = 1
    LEGACY_2X = 2  # v5/niji5 only, deprecated
    LEGACY_4X = 3  # v5/niji5 only, deprecated


class PanDirection(IntEnum):
    """Documented values (15-pan.md). The official Python SDK gets these wrong; the API does not."""

    DOWN = 0
    RIGHT = 1
    UP = 2
    LEFT = 3


class RemixMode(IntEnum):
    STRONG = 0
    SUBTLE = 1


class VideoType(IntEnum):
    SD_480P = 0
    HD_720P = 1


# --- request building blocks -----------------------------------------------------------------------


class _Wire(BaseModel):
    # defer_build: validators are made on first use, not at import (start-up time; benchmarks/cold_start.py)
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True, defer_build=True)

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the API expects (aliases, no unset optionals)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Polygon(_Wire):
    """A polygon on an image of ``width`` x ``height`` pixels; ``points`` is x1,y1,x2,y2,... clockwise."""

    width: Annotated[int, Field(ge=500, le=4096)]
    height: Annotated[int, Field(ge=500, le=4096)]
    points: Annotated[list[Annotated[int, Field(ge=0)]], Field(min_length=6, max_length=512)]

    @model_validator(mode="after")
    def _points_fit(self) -> Polygon:
        if len(self.points) % 2:
            raise ValueError("points must be x,y pairs (an even count)")
        xs, ys = self.points[0::2], self.points[1::2]
        if max(xs) > self.width or max(ys) > self.height:
            raise ValueError("every point must lie inside width x height")
        return self


class Mask(_Wire):
    """Where to repaint: polygons, or a black-and-white mask image (white = repaint)."""

    areas: list[Polygon] | None = Field(default=None, min_length=1, max_length=32)
    url: ImageUrl | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Mask:
        if (self.areas is None) == (self.url is None):
            raise ValueError("give exactly one of mask.areas (polygons) or mask.url (mask image)")
        return self


class Canvas(_Wire):
    width: PixelSize
    height: PixelSize


class CanvasImage(_Wire):
    """Size and offset of the source image on the canvas (``imgPos``)."""

    width: PixelSize
    height: PixelSize
    x: Annotated[int, Field(ge=-8192, le=8192)]
    y: Annotated[int, Field(ge=-8192, le=8192)]


def _check_on_canvas(canvas: Canvas, image: CanvasImage) -> None:
    if image.x + image.width <= 0 or image.y + image.height <= 0 or image.x >= canvas.width or \
            image.y >= canvas.height:
        raise ValueError("image_position places the image entirely outside the canvas")


class JobRequest(_Wire):
    """Base of every job-creating request. ``endpoint`` is the path below the API base."""

    endpoint: ClassVar[str]
    task_type: ClassVar[str]
    callback: HttpUrl | None = None


class _OnImage(JobRequest):
    job_id: JobId = Field(alias="jobId")
    image_no: ImageNo = Field(alias="imageNo")


class _OnVideo(JobRequest):
    job_id: JobId = Field(alias="jobId")
    video_no: ImageNo = Field(alias="videoNo")


# --- the 20 job endpoints --------------------------------------------------------------------------


class DiffusionRequest(JobRequest):
    """POST /v1/diffusion: text (with --flags) to a 2x2 grid of images."""

    endpoint = "/v1/diffusion"
    task_type = "diffusion"
    text: ImagePrompt


class VariationRequest(_OnImage):
    endpoint = "/v1/variation"
    task_type = "variation"
    type: VariationType
    remix_prompt: ImagePrompt | None = Field(default=None, alias="remixPrompt")


class UpscaleRequest(_OnImage):
    endpoint = "/v1/upscale"
    task_type = "upscale"
    type: UpscaleType


class RerollRequest(JobRequest):
    endpoint = "/v1/reroll"
    task_type = "reroll"
    job_id: JobId = Field(alias="jobId")


class BlendRequest(JobRequest):
    endpoint = "/v1/blend"
    task_type = "blend"
    image_urls: list[ImageUrl] = Field(alias="imgUrls", min_length=2, max_length=5)
    aspect_ratio: Literal["2:3", "1:1", "3:2"]


class DescribeRequest(JobRequest):
    endpoint = "/v1/describe"
    task_type = "describe"
    image_url: ImageUrl = Field(alias="imgUrl")


class ShortenRequest(JobRequest):
    endpoint = "/v1/shorten"
    task_type = "shorten"
    prompt: ImagePrompt


class PanRequest(_OnImage):
    endpoint = "/v1/pan"
    task_type = "pan"
    direction: PanDirection
    scale: Annotated[float, Field(ge=1.1, le=3.0)]
    remix_prompt: ImagePrompt | None = Field(default=None, alias="remixPrompt")


class OutpaintRequest(_OnImage):
    endpoint = "/v1/outpaint"
    task_type = "outpaint"
    scale: Annotated[float, Field(ge=1.1, le=2.0)]
    remix_prompt: ImagePrompt | None = Field(default=None, alias="remixPrompt")


class InpaintRequest(_OnImage):
    endpoint = "/v1/inpaint"
    task_type = "inpaint"
    mask: Mask
    remix_prompt: ImagePrompt | None = Field(default=None, alias="remixPrompt")
    area: Polygon | None = None  # deprecated by the API in favour of mask.areas


class RemixRequest(_OnImage):
    endpoint = "/v1/remix"
    task_type = "remix"
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")
    mode: RemixMode | None = None


class EditRequest(_OnImage):
    endpoint = "/v1/edit"
    task_type = "edit"
    canvas: Canvas
    image_position: CanvasImage = Field(alias="imgPos")
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")
    mask: Mask | None = None

    @model_validator(mode="after")
    def _fits(self) -> EditRequest:
        _check_on_canvas(self.canvas, self.image_position)
        return self


class UploadPaintRequest(JobRequest):
    endpoint = "/v1/upload-paint"
    task_type = "upload-paint"
    image_url: ImageUrl = Field(alias="imgUrl")
    canvas: Canvas
    image_position: CanvasImage = Field(alias="imgPos")
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")
    mask: Mask

    @model_validator(mode="after")
    def _fits(self) -> UploadPaintRequest:
        _check_on_canvas(self.canvas, self.image_position)
        return self


class RetextureRequest(JobRequest):
    endpoint = "/v1/retexture"
    task_type = "retexture"
    image_url: ImageUrl = Field(alias="imgUrl")
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")


class RemoveBackgroundRequest(JobRequest):
    endpoint = "/v1/remove-background"
    task_type = "remove-background"
    image_url: ImageUrl = Field(alias="imgUrl")


class EnhanceRequest(_OnImage):
    """Only for parents made with ``--v 7 --draft`` (23-enhance.md)."""

    endpoint = "/v1/enhance"
    task_type = "enhance"


class VideoDiffusionRequest(JobRequest):
    """Either animate a generated image (``job_id`` + ``image_no``) or a prompt starting with an image URL."""

    endpoint = "/v1/video-diffusion"
    task_type = "video-diffusion"
    job_id: JobId | None = Field(default=None, alias="jobId")
    image_no: ImageNo | None = Field(default=None, alias="imageNo")
    prompt: VideoPrompt | None = None
    video_type: VideoType | None = Field(default=None, alias="videoType")

    @model_validator(mode="after")
    def _one_mode(self) -> VideoDiffusionRequest:
        if self.job_id is not None or self.image_no is not None:
            if self.job_id is None or self.image_no is None:
                raise ValueError("animating a generated image needs both job_id and image_no")
            return self
        if self.prompt is None:
            raise ValueError("give job_id and image_no, or a prompt that starts with an image URL")
        first = self.prompt.split(maxsplit=1)[0]
        try:
            _check_http_url(first)
        except ValueError as exc:
            raise ValueError(
                "without job_id the prompt must start with an image URL: '<image_url> your prompt'"
            ) from exc
        return self


class ExtendVideoRequest(_OnVideo):
    endpoint = "/v1/extend-video"
    task_type = "extend-video"
    prompt: VideoPrompt | None = None


class VideoUpscaleRequest(_OnVideo):
    endpoint = "/v1/video-upscale"
    task_type = "video-upscale"


TargetResolution = Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"]


class EnhanceUpscaleRequest(JobRequest):
    """Topaz upscale (27-topaz-upscale-image.md): an image URL, or an image of a previous job."""

    endpoint = "/v1/enhance-upscale"
    task_type = "enhance-upscale"
    image_url: ImageUrl | None = None
    job_id: JobId | None = Field(default=None, alias="jobId")
    image_no: ImageNo | None = Field(default=None, alias="imageNo")
    target_resolution: TargetResolution | None = None
    content_type: Literal["standard", "photo", "illustration", "text", "low_res"] | None = None
    aspect_ratio: Literal["keep", "1:1", "16:9", "9:16", "4:5", "5:4", "3:2", "2:3", "4:3", "3:4"] | None = None
    crop_mode: Literal["letterbox", "crop", "stretch"] | None = None
    output_format: Literal["jpeg", "jpg", "png", "tiff", "tif"] | None = None
    face_enhancement_level: Literal["off", "none", "subtle", "moderate", "strong"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnhanceUpscaleRequest:
        from_job = self.job_id is not None or self.image_no is not None
        if from_job and (self.job_id is None or self.image_no is None):
            raise ValueError("upscaling a job's image needs both job_id and image_no")
        if from_job == (self.image_url is not None):
            raise ValueError("give exactly one source: image_url, or job_id with image_no")
        return self


_R = TypeVar("_R", bound=JobRequest)


def build_request(model: type[_R], **fields: Any) -> _R:
    """Validate ``fields`` into ``model``; raise InvalidRequestError naming every field that is wrong.

    Fields may be given by Python name or by wire alias. Nothing is sent: this is the local check.
    """
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidRequestError(describe_validation_error(exc), local=True) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One readable sentence per problem: ``scale: must be <= 3.0 (got 4)``."""
    lines = []
    for problem in exc.errors(include_url=False):
        where = ".".join(str(p) for p in problem["loc"]) or "request"
        text = str(problem["msg"]).removeprefix("Value error, ")
        got = problem.get("input")
        shown = "" if isinstance(got, dict | list) or got is None else f" (got {repr(got)[:60]})"
        lines.append(f"{where}: {text}{shown}")
    return "Invalid request, nothing was sent: " + "; ".join(lines)


ALL_REQUESTS: tuple[type[JobRequest], ...] = (
    DiffusionRequest, VariationRequest, UpscaleRequest, RerollRequest, BlendRequest, DescribeRequest,
    ShortenRequest, PanRequest, OutpaintRequest, InpaintRequest, RemixRequest, EditRequest,
    UploadPaintRequest, RetextureRequest, RemoveBackgroundRequest, EnhanceRequest, VideoDiffusionRequest,
    ExtendVideoRequest, VideoUpscaleRequest, EnhanceUpscaleRequest,
)

# --- responses -------------------------------------------------------------------------------------


class JobStatus(StrEnum):
    PENDING = "pending"
    STAGED = "staged"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> JobStatus:
        return cls.UNKNOWN


def _zero_time_to_none(value: Any) -> Any:
    """Go zero times (``0001-01-01T00:00:00Z``) and empty strings mean "not yet"."""
    if value is None or (isinstance(value, str) and (not value.strip() or value.startswith("0001-01-01"))):
        return None
    return value


def _empty_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _null_to_list(value: Any) -> Any:
    return [] if value is None else value


def _seed_to_str(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _empty_to_none(value)


OptionalTime = Annotated[datetime | None, BeforeValidator(_zero_time_to_none)]
OptionalText = Annotated[str | None, BeforeValidator(_empty_to_none)]
UrlList = Annotated[list[str], BeforeValidator(_null_to_list)]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class ErrorInfo(_Tolerant):
    """The ``error`` object every job carries; ``code == 0`` means no error."""

    code: int = 0
    message: str = ""
    raw_message: str = ""
    detail: Any = None

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value: Any) -> Any:
        return 0 if value in (None, "") else value

    @field_validator("message", "raw_message", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value

    @property
    def is_error(self) -> bool:
        return self.code != 0 or bool(self.message)


class Usage(_Tolerant):
    type: str = "point"
    frozen: int = 0
    consume: int = 0


class JobMeta(_Tolerant):
    created_at: OptionalTime = None
    started_at: OptionalTime = None
    ended_at: OptionalTime = None
    usage: Usage = Field(default_factory=Usage)


class JobOutput(_Tolerant):
    """Everything a job may produce; which fields are filled depends on the task type."""

    image_url: OptionalText = None
    image_urls: UrlList = Field(default_factory=list)
    video_url: OptionalText = None
    video_urls: UrlList = Field(default_factory=list)
    seed: Annotated[str | None, BeforeValidator(_seed_to_str)] = None
    available_actions: Annotated[dict[str, list[int] | bool], BeforeValidator(lambda v: v or {})] = Field(
        default_factory=dict
    )
    # describe / shorten
    description: OptionalText = None
    prompt_en: OptionalText = Field(default=None, alias="promptEn")
    final_prompt: OptionalText = Field(default=None, alias="finalPrompt")
    prompts: UrlList = Field(default_factory=list)

    def allows(self, action: str, index: int | None = None) -> bool:
        """Whether ``available_actions`` lists ``action`` (for ``index``, when it takes one)."""
        entry = self.available_actions.get(action.replace("-", "_")) or self.available_actions.get(action)
        if isinstance(entry, bool):
            return entry
        if entry is None:
            return False
        return index is None or index in entry


def normalize_task_type(value: str) -> str:
    """``video_diffusion`` and ``video-diffusion`` are the same task; we use the endpoint's spelling."""
    return value.strip().lower().replace("_", "-")


class Job(_Tolerant):
    """A job as returned by every submit endpoint and by ``GET /v1/job/{id}``."""

    job_id: str
    model: str = "midjourney"
    task_type: Annotated[str, AfterValidator(normalize_task_type)] = "unknown"
    status: JobStatus = JobStatus.UNKNOWN
    config: dict[str, Any] | None = None
    input: Any = None
    output: JobOutput = Field(default_factory=JobOutput)
    meta: JobMeta = Field(default_factory=JobMeta)
    detail: Any = None
    logs: Annotated[list[Any], BeforeValidator(_null_to_list)] = Field(default_factory=list)
    error: ErrorInfo = Field(default_factory=ErrorInfo)

    @field_validator("output", "meta", "error", mode="before")
    @classmethod
    def _null_object(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def is_terminal(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.FAILED)

    @property
    def image_count(self) -> int:
        return len(self.output.image_urls)


class Balance(_Tolerant):
    """``data`` of ``GET /account/balance``. 1 USD = 1000 credits/points; jobs are priced in points."""

    account_id: int | None = None
    balance_usd: float = 0.0
    available_credits: int = 0
    available_points: int = 0
    alert_threshold: float | None = None
    low_balance_alert: bool = False
    updated_at: OptionalTime = None

    @property
    def total_points(self) -> int:
        """What the account can spend on jobs: credits and points together."""
        return self.available_credits + self.available_points


class ApiErrorBody(_Tolerant):
    """The flat error shape: ``{"code", "message", "raw_message", "detail"}``."""

    code: int | None = None
    message: str = ""
    raw_message: str = ""
    detail: Any = None
