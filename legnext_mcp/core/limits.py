"""Documented limits of the Midjourney APIs, as pydantic field types, so the operations, the Legnext wire
models and the tool arguments share one definition of every range.

Sources (../shared/legnext-docs): prompts 1-8192 characters and image URLs up to 1024 (08-text-to-image,
09-variation...); image numbers 0-3; pan scale 1.1-3.0 (15-pan), outpaint 1.1-2.0 (16-outpaint);
polygons 500-4096 px (17-inpaint); blend 2-5 images (12-blend); operations valid 3 days, files kept 30
days (07-output-storage).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from legnext_mcp.core.localref import check_local_ref, is_local_ref
from legnext_mcp.core.text import visible_text
from legnext_mcp.core.urls import MAX_URL_CHARS, check_http_url

MAX_PROMPT_CHARS = 8192
OPERATION_WINDOW = timedelta(days=3)
STORAGE_WINDOW = timedelta(days=30)

PAN_SCALE = (1.1, 3.0)
OUTPAINT_SCALE = (1.1, 2.0)
BLEND_IMAGES = (2, 5)
POLYGON_SIDE = (500, 4096)
MAX_POLYGONS = 32
MAX_POLYGON_NUMBERS = 512
CANVAS_SIDE = (1, 8192)
MAX_OFFSET = 8192

#: The most files one job may produce, per output kind: a grid's four images (its grid image is extra),
#: one image, up to four videos (--bs 1|2|4, 24-video-diffusion.md), none for text jobs. An answer
#: listing more is refused rather than downloaded.
MAX_OUTPUTS: dict[str, int] = {"grid": 4, "single": 1, "video": 4, "text": 0}


def _http_url(value: str) -> str:
    if is_local_ref(value):  # a picture on this machine: readable only under LEGNEXT_INPUT_ROOTS (service.inputs)
        return check_local_ref(value)
    return check_http_url(value)


Text = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS), AfterValidator(visible_text)]
"""A prompt as the API bounds it (1-8192 characters); --flag rules are applied where the model is known."""
ImageUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(_http_url)]
"""An image the API fetches: an absolute http(s) URL of at most 1024 characters, without credentials; or a picture
on this machine (an absolute path or file:// URL), sent the way the API takes it (``service.inputs``)."""
HttpImageUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_CHARS), AfterValidator(check_http_url)]
"""An image URL on the wire: http(s) only (local pictures are delivered as URLs before a request is built)."""
ImageNo = Annotated[int, Field(ge=0, le=3)]
VideoNo = Annotated[int, Field(ge=0, le=3)]
PanScale = Annotated[float, Field(ge=PAN_SCALE[0], le=PAN_SCALE[1])]
OutpaintScale = Annotated[float, Field(ge=OUTPAINT_SCALE[0], le=OUTPAINT_SCALE[1])]
PolygonSide = Annotated[int, Field(ge=POLYGON_SIDE[0], le=POLYGON_SIDE[1])]
CanvasSide = Annotated[int, Field(ge=CANVAS_SIDE[0], le=CANVAS_SIDE[1])]
Offset = Annotated[int, Field(ge=-MAX_OFFSET, le=MAX_OFFSET)]

Direction = Literal["down", "right", "up", "left"]
Strength = Literal["subtle", "strong"]
UpscaleMode = Literal["subtle", "creative"]
RemixMode = Literal["strong", "subtle"]
BlendAspect = Literal["2:3", "1:1", "3:2"]
VideoResolution = Literal["480p", "720p"]
TargetResolution = Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"]
ContentType = Literal["standard", "photo", "illustration", "text", "low_res"]
