"""Wire models of the Legnext API: one request model per job endpoint, the job, the balance, the account.

Requests are strict: every documented range and enum is checked here (the types come from
``core.limits``, shared with the operations), so a bad request fails before it costs anything. Field
names are snake_case in Python and serialise to the API's own mix of camelCase and snake_case
(``jobId``, ``imageNo``, ``imgUrls``, ``aspect_ratio``, ``target_resolution``...). An optional field
sent as ``""`` means absent (Legnext's n8n node sends blanks that way).

Which path, price and poll plan each request has is in ``endpoints.py`` (one row per endpoint).

Responses are tolerant: unknown fields are kept, Go zero times and empty strings become ``None``,
``null`` lists become empty lists and task types are normalised to the endpoint's hyphenated name.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal, TypeVar

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

from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.ids import JobId
from legnext_mcp.core.job import JobStatus
from legnext_mcp.core.limits import (
    BLEND_IMAGES,
    BlendAspect,
    ContentType,
    ImageNo,
    OutpaintScale,
    PanScale,
    TargetResolution,
    Text,
    VideoNo,
)
from legnext_mcp.core.limits import (
    HttpImageUrl as ImageUrl,
)
from legnext_mcp.core.operations import Canvas, CanvasImage, ImagePrompt, Mask, Polygon, VideoPrompt, check_on_canvas
from legnext_mcp.core.problems import describe
from legnext_mcp.core.urls import check_http_url


class VariationType(IntEnum):
    SUBTLE = 0
    STRONG = 1


class UpscaleType(IntEnum):
    """0 and 1. The documented 2 and 3 are for v5 models, which the API no longer runs: refused locally."""

    SUBTLE = 0
    CREATIVE = 1


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


# --- requests ---------------------------------------------------------------------------------------


class _Wire(BaseModel):
    # defer_build: validators are made on first use, not at import (start-up time; benchmarks/cold_start.py)
    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value != ""}
        return data

    def to_wire(self) -> dict[str, Any]:
        """The JSON body the API expects (aliases, no unset optionals)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


HttpUrl = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(check_http_url)]


class JobRequest(_Wire):
    """Base of every job-creating request."""

    callback: HttpUrl | None = None


class _OnImage(JobRequest):
    job_id: JobId = Field(alias="jobId")
    image_no: ImageNo = Field(alias="imageNo")


class _OnVideo(JobRequest):
    job_id: JobId = Field(alias="jobId")
    video_no: VideoNo = Field(alias="videoNo")


class DiffusionRequest(JobRequest):
    """POST /v1/diffusion: text (with --flags) to a 2x2 grid of images."""

    text: ImagePrompt


class VariationRequest(_OnImage):
    type: VariationType
    remix_prompt: Text | None = Field(default=None, alias="remixPrompt")


class UpscaleRequest(_OnImage):
    type: UpscaleType


class RerollRequest(JobRequest):
    job_id: JobId = Field(alias="jobId")


class BlendRequest(JobRequest):
    image_urls: list[ImageUrl] = Field(alias="imgUrls", min_length=BLEND_IMAGES[0], max_length=BLEND_IMAGES[1])
    aspect_ratio: BlendAspect


class DescribeRequest(JobRequest):
    image_url: ImageUrl = Field(alias="imgUrl")


class ShortenRequest(JobRequest):
    """The prompt is text to shorten: only the length rule applies (its flags are not run)."""

    prompt: Text


class PanRequest(_OnImage):
    direction: PanDirection
    scale: PanScale
    remix_prompt: Text | None = Field(default=None, alias="remixPrompt")


class OutpaintRequest(_OnImage):
    scale: OutpaintScale
    remix_prompt: Text | None = Field(default=None, alias="remixPrompt")


class InpaintRequest(_OnImage):
    mask: Mask
    remix_prompt: Text | None = Field(default=None, alias="remixPrompt")
    area: Polygon | None = None  # deprecated by the API in favour of mask.areas


class RemixRequest(_OnImage):
    remix_prompt: Text = Field(alias="remixPrompt")
    mode: RemixMode | None = None


class EditRequest(_OnImage):
    canvas: Canvas
    image_position: CanvasImage = Field(alias="imgPos")
    remix_prompt: Text = Field(alias="remixPrompt")
    mask: Mask | None = None

    @model_validator(mode="after")
    def _fits(self) -> EditRequest:
        check_on_canvas(self.canvas, self.image_position)
        return self


class UploadPaintRequest(JobRequest):
    image_url: ImageUrl = Field(alias="imgUrl")
    canvas: Canvas
    image_position: CanvasImage = Field(alias="imgPos")
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")
    mask: Mask

    @model_validator(mode="after")
    def _fits(self) -> UploadPaintRequest:
        check_on_canvas(self.canvas, self.image_position)
        return self


class RetextureRequest(JobRequest):
    image_url: ImageUrl = Field(alias="imgUrl")
    remix_prompt: ImagePrompt = Field(alias="remixPrompt")


class RemoveBackgroundRequest(JobRequest):
    image_url: ImageUrl = Field(alias="imgUrl")


class EnhanceRequest(_OnImage):
    """Only for parents made with ``--v 7 --draft`` (23-enhance.md)."""


class VideoDiffusionRequest(JobRequest):
    """Either animate a generated image (``job_id`` + ``image_no``) or a prompt starting with an image URL."""

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
        try:
            check_http_url(self.prompt.split(maxsplit=1)[0])
        except ValueError as exc:
            raise ValueError("without job_id the prompt must start with an image URL: '<image_url> your prompt'"
                             ) from exc
        return self


class ExtendVideoRequest(_OnVideo):
    prompt: VideoPrompt | None = None


class VideoUpscaleRequest(_OnVideo):
    pass


class EnhanceUpscaleRequest(JobRequest):
    """Topaz upscale (27-topaz-upscale-image.md): an image URL, or an image of a previous job."""

    image_url: ImageUrl | None = None
    job_id: JobId | None = Field(default=None, alias="jobId")
    image_no: ImageNo | None = Field(default=None, alias="imageNo")
    target_resolution: TargetResolution | None = None
    content_type: ContentType | None = None
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


_R = TypeVar("_R", bound=BaseModel)


def build_request(model: type[_R], **fields: Any) -> _R:
    """Validate ``fields`` into ``model``; raise LocalValidationError naming every field that is wrong.

    Fields may be given by Python name or by wire alias. Nothing is sent: this is the local check.
    """
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise LocalValidationError(f"Invalid request: {describe(exc, model)}.") from None


# --- responses -------------------------------------------------------------------------------------


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


def normalize_task_type(value: str) -> str:
    """``video_diffusion`` and ``video-diffusion`` are the same task; we use the endpoint's spelling."""
    return value.strip().lower().replace("_", "-")


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
        default_factory=dict)
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


class LegnextJob(_Tolerant):
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
        return self.status.is_terminal

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


class Wallet(_Tolerant):
    point_remain: int = 0
    point_frozen: int = 0
    point_used: int = 0


class CreditPackInfo(_Tolerant):
    available_credits: int = 0
    frozen_credits: int = 0
    used_credits: int = 0


class AccountInfo(_Tolerant):
    """``data`` of ``GET /account/info`` (the shape Legnext's web app reads: plan, wallet, credit packs)."""

    id: int | None = None
    name: str = ""
    plan: str = ""
    max_concurrent_task_count: int | None = None
    wallet: Wallet | None = None
    credit_pack_info: CreditPackInfo | None = None


class ApiErrorBody(_Tolerant):
    """The flat error shape: ``{"code", "message", "raw_message", "detail"}``."""

    code: int | None = None
    message: str = ""
    raw_message: str = ""
    detail: Any = None
