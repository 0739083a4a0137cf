"""The typed async client of the Legnext API: the documented import path (``from legnext_mcp.api import
LegnextClient, DiffusionRequest``). A facade over ``core`` and ``dialects.legnext``; imports neither
``mcp``, Pillow nor uvicorn."""

from legnext_mcp.core.clock import Clock
from legnext_mcp.core.errors import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    InsufficientCreditsError,
    InvalidRequestError,
    JobFailedError,
    JobOutcomeError,
    LegnextError,
    LocalValidationError,
    NetworkError,
    NotFoundError,
    PromptError,
    RateLimitedError,
    ServerError,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from legnext_mcp.core.job import JobStatus
from legnext_mcp.core.operations import Canvas, CanvasImage, Mask, Polygon
from legnext_mcp.dialects.legnext import DEFAULT_BASE_URL
from legnext_mcp.dialects.legnext.client import LegnextClient
from legnext_mcp.dialects.legnext.endpoints import ENDPOINTS
from legnext_mcp.dialects.legnext.wire import (
    AccountInfo,
    Balance,
    BlendRequest,
    DescribeRequest,
    DiffusionRequest,
    EditRequest,
    EnhanceRequest,
    EnhanceUpscaleRequest,
    ExtendVideoRequest,
    InpaintRequest,
    Job,
    JobRequest,
    OutpaintRequest,
    PanDirection,
    PanRequest,
    RemixMode,
    RemixRequest,
    RemoveBackgroundRequest,
    RerollRequest,
    RetextureRequest,
    ShortenRequest,
    UploadPaintRequest,
    UpscaleRequest,
    UpscaleType,
    VariationRequest,
    VariationType,
    VideoDiffusionRequest,
    VideoType,
    VideoUpscaleRequest,
    build_request,
)
from legnext_mcp.http.download import Download

#: One request model per job endpoint, in the documented order.
ALL_REQUESTS: tuple[type[JobRequest], ...] = tuple(endpoint.request for endpoint in ENDPOINTS)

__all__ = [
    "ALL_REQUESTS", "DEFAULT_BASE_URL", "APIConnectionError", "APIStatusError", "AccountInfo", "AuthenticationError",
    "BadRequestError", "Balance", "BlendRequest", "Canvas", "CanvasImage", "Clock", "DescribeRequest",
    "DiffusionRequest", "Download", "EditRequest", "EnhanceRequest", "EnhanceUpscaleRequest", "ExtendVideoRequest",
    "ForbiddenError", "InpaintRequest", "InsufficientCreditsError", "InvalidRequestError", "Job", "JobFailedError",
    "JobOutcomeError", "JobRequest", "JobStatus", "LegnextClient", "LegnextError", "LocalValidationError", "Mask",
    "NetworkError", "NotFoundError", "OutpaintRequest", "PanDirection", "PanRequest", "Polygon", "PromptError",
    "RateLimitedError", "RemixMode", "RemixRequest", "RemoveBackgroundRequest", "RerollRequest", "RetextureRequest",
    "ServerError", "ShortenRequest", "SubmissionUncertainError", "UploadPaintRequest", "UpscaleRequest", "UpscaleType",
    "VariationRequest", "VariationType", "VideoDiffusionRequest", "VideoType", "VideoUpscaleRequest",
    "WaitTimeoutError", "build_request",
]
