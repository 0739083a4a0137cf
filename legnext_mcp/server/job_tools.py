"""One tool per Legnext job endpoint, plus ``generate_and_wait``, written as pure *builders*: typed
arguments in, a validated request out. ``tool_factory`` turns each into an MCP tool that adds the
waiting arguments, the checks before spending and the submit. A builder's docstring is its tool's
description; its parameters are the tool's (minus wait/timeout_s/include_preview)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from legnext_mcp.api import models as m
from legnext_mcp.api.errors import InvalidRequestError
from legnext_mcp.api.models import build_request
from legnext_mcp.api.prompt import merge_prompt

Prompt = Annotated[str, Field(min_length=1, max_length=8192, description=(
    "Prompt text; --flags go at the end"))]
OptionalPrompt = Annotated[str | None, Field(min_length=1, max_length=8192, description=(
    "Prompt for the new content"))]
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


def _job_id(value: str) -> str:
    # Checked here rather than as a schema pattern: ids become file names and URIs, and the pattern
    # would cost context on every tool.
    if not _JOB_ID.fullmatch(value):
        raise ValueError("not a job id; use the job_id from an earlier result or list_jobs")
    return value


JobId = Annotated[str, Field(max_length=128, description="job_id of the parent job"), AfterValidator(_job_id)]
ImageNo = Annotated[int, Field(ge=0, le=3, description="Image of the parent, 0-3")]
VideoNo = Annotated[int, Field(ge=0, le=3, description="Video of the parent, from 0")]
ImageUrl = Annotated[str, Field(min_length=8, max_length=1024, description="Public image URL")]
Wait = Annotated[bool, Field(description="Wait for the result")]
Timeout = Annotated[float | None, Field(gt=0, le=3600, description="Longest wait, seconds")]
Preview = Annotated[bool, Field(description="Attach a small JPEG preview")]
PolygonArg = Annotated[m.Polygon, Field(description="Image width/height (500-4096), points x1,y1,x2,y2,... clockwise")]
Areas = Annotated[list[PolygonArg] | None, Field(min_length=1, max_length=32, description=(
    "Regions to repaint; or mask_url"))]
MaskUrl = Annotated[str | None, Field(max_length=1024, description=(
    "Mask image URL, white = repaint; or areas"))]
CanvasArg = Annotated[m.Canvas, Field(description="Target canvas size in pixels")]
Position = Annotated[m.CanvasImage, Field(description="Image size and x/y offset on the canvas, px")]

_VARIATION = {"subtle": m.VariationType.SUBTLE, "strong": m.VariationType.STRONG}
_UPSCALE = {"subtle": m.UpscaleType.SUBTLE, "creative": m.UpscaleType.CREATIVE}
_DIRECTION = {"down": m.PanDirection.DOWN, "right": m.PanDirection.RIGHT, "up": m.PanDirection.UP,
              "left": m.PanDirection.LEFT}
_REMIX = {"strong": m.RemixMode.STRONG, "subtle": m.RemixMode.SUBTLE}
_VIDEO = {"480p": m.VideoType.SD_480P, "720p": m.VideoType.HD_720P}


def _mask(areas: list[m.Polygon] | None, mask_url: str | None) -> dict[str, Any] | None:
    if areas is not None and mask_url is not None:
        raise InvalidRequestError("Give areas (polygons) or mask_url (a mask image), not both.", local=True)
    if areas is None and mask_url is None:
        return None
    return {"areas": areas, "url": mask_url}


# Typed Midjourney parameters (rendered as --flags by api.prompt.merge_prompt, checked per model version).
AspectRatio = Annotated[str | None, Field(pattern=r"^[0-9]{1,5}:[0-9]{1,5}$", description="--ar, e.g. 16:9")]
Version = Annotated[Literal["6", "6.1", "7", "8", "8.1", "niji 6"] | None, Field(description="--v (default 7)")]
Stylize = Annotated[int | None, Field(ge=0, le=1000, description="--s: artistry")]
Chaos = Annotated[int | None, Field(ge=0, le=100, description="--c: variety")]
Weird = Annotated[int | None, Field(ge=0, le=3000, description="--w: weirdness")]
Quality = Annotated[float | None, Field(ge=0.5, le=4, description="--q: 0.5/1/2/4 by version")]
Seed = Annotated[int | None, Field(ge=0, le=4294967295, description="--seed")]
Stop = Annotated[int | None, Field(ge=10, le=100, description="--stop (not v8+)")]
Exp = Annotated[int | None, Field(ge=0, le=100, description="--exp (v7+)")]
Negative = Annotated[str | None, Field(max_length=1000, description="--no: leave out")]
Weight = Annotated[int | None, Field(ge=0, le=1000, description="weight")]
Speed = Annotated[Literal["fast", "turbo"] | None, Field(description="turbo: 2x cost")]


def imagine(prompt: Prompt, aspect_ratio: AspectRatio = None, version: Version = None, stylize: Stylize = None,
            chaos: Chaos = None, weird: Weird = None, quality: Quality = None, seed: Seed = None,
            stop: Stop = None, raw: Annotated[bool, Field(description="--raw")] = False,
            tile: Annotated[bool, Field(description="--tile")] = False,
            draft: Annotated[bool, Field(description="--draft (v7)")] = False,
            exp: Exp = None, no: Negative = None,
            sref: Annotated[str | None, Field(max_length=2048, description="--sref: URL or code")] = None,
            sw: Weight = None,
            oref: Annotated[str | None, Field(max_length=1024, description="--oref URL (v7/v8)")] = None,
            ow: Weight = None,
            cref: Annotated[str | None, Field(max_length=2048, description="--cref URL")] = None,
            cw: Annotated[int | None, Field(ge=0, le=100, description="weight")] = None,
            iw: Annotated[float | None, Field(ge=0, le=3, description="--iw")] = None,
            speed: Speed = None) -> m.JobRequest:
    """Generate a 2x2 grid of 4 images from a text prompt. 80 points, x2 with turbo. Flags may be written in the
    prompt or given as arguments (not both)."""
    params = {"aspect_ratio": aspect_ratio, "version": version, "stylize": stylize, "chaos": chaos, "weird": weird,
              "quality": quality, "seed": seed, "stop": stop, "raw": raw, "tile": tile, "draft": draft, "exp": exp,
              "no": no, "sref": sref, "sw": sw, "oref": oref, "ow": ow, "cref": cref, "cw": cw, "iw": iw,
              "speed": speed}
    return build_request(m.DiffusionRequest, text=merge_prompt(prompt, params))


def variation(job_id: JobId, image_no: ImageNo,
              type: Annotated[Literal["subtle", "strong"], Field(description="How far to vary")] = "subtle",
              remix_prompt: OptionalPrompt = None) -> m.JobRequest:
    """Make 4 variations of one image of a finished job (subtle or strong). 120 points."""
    return build_request(m.VariationRequest, job_id=job_id, image_no=image_no, type=_VARIATION[type],
                         remix_prompt=remix_prompt)


def upscale(job_id: JobId, image_no: ImageNo,
            type: Annotated[Literal["subtle", "creative"], Field(
                description="subtle keeps details; creative adds artistic detail")] = "subtle") -> m.JobRequest:
    """Upscale one image of a finished job to a single large image. 120 points."""
    return build_request(m.UpscaleRequest, job_id=job_id, image_no=image_no, type=_UPSCALE[type])


def reroll(job_id: JobId) -> m.JobRequest:
    """Run a finished job's prompt again for 4 new images. 80 points."""
    return build_request(m.RerollRequest, job_id=job_id)


def blend(image_urls: Annotated[list[str], Field(min_length=2, max_length=5, description="2-5 image URLs")],
          aspect_ratio: Annotated[Literal["2:3", "1:1", "3:2"], Field(description="Output aspect")] = "1:1",
          ) -> m.JobRequest:
    """Blend 2-5 images into 4 new ones. 80 points."""
    return build_request(m.BlendRequest, image_urls=image_urls, aspect_ratio=aspect_ratio)


def describe(image_url: ImageUrl) -> m.JobRequest:
    """Write 4 prompts that describe an image (use one with imagine). 20 points."""
    return build_request(m.DescribeRequest, image_url=image_url)


def shorten(prompt: Prompt) -> m.JobRequest:
    """Suggest shorter versions of a long prompt, keeping its key words. 20 points."""
    return build_request(m.ShortenRequest, prompt=prompt)


def pan(job_id: JobId, image_no: ImageNo,
        direction: Annotated[Literal["down", "right", "up", "left"], Field(description="Side to extend")],
        scale: Annotated[float, Field(ge=1.1, le=3.0, description="New size / old size on that side, 1.1-3.0")] = 1.5,
        remix_prompt: OptionalPrompt = None) -> m.JobRequest:
    """Extend one image in one direction (not on v8/v8.1 images). 80 points."""
    return build_request(m.PanRequest, job_id=job_id, image_no=image_no, direction=_DIRECTION[direction],
                         scale=scale, remix_prompt=remix_prompt)


def outpaint(job_id: JobId, image_no: ImageNo,
             scale: Annotated[float, Field(ge=1.1, le=2.0, description="Zoom-out factor, 1.1-2.0")] = 1.5,
             remix_prompt: OptionalPrompt = None) -> m.JobRequest:
    """Zoom out: extend one image in all directions (not on v8/v8.1 images). 80 points."""
    return build_request(m.OutpaintRequest, job_id=job_id, image_no=image_no, scale=scale,
                         remix_prompt=remix_prompt)


def inpaint(job_id: JobId, image_no: ImageNo, areas: Areas = None, mask_url: MaskUrl = None,
            remix_prompt: OptionalPrompt = None) -> m.JobRequest:
    """Repaint regions of one image (polygons or a mask image), guided by a prompt. 120 points."""
    return build_request(m.InpaintRequest, job_id=job_id, image_no=image_no, mask=_mask(areas, mask_url),
                         remix_prompt=remix_prompt)


def remix(job_id: JobId, image_no: ImageNo, remix_prompt: Prompt,
          mode: Annotated[Literal["strong", "subtle"], Field(description="How much may change")] = "strong",
          ) -> m.JobRequest:
    """Redraw one image with a new prompt (strong or subtle). 120 points."""
    return build_request(m.RemixRequest, job_id=job_id, image_no=image_no, remix_prompt=remix_prompt,
                         mode=_REMIX[mode])


def edit(job_id: JobId, image_no: ImageNo, canvas: CanvasArg, image_position: Position,
         remix_prompt: Prompt, areas: Areas = None, mask_url: MaskUrl = None) -> m.JobRequest:
    """Place one image on a new canvas and repaint (empty areas and masked regions) from a prompt. 120 points."""
    return build_request(m.EditRequest, job_id=job_id, image_no=image_no, canvas=canvas,
                         image_position=image_position, remix_prompt=remix_prompt, mask=_mask(areas, mask_url))


def upload_paint(image_url: ImageUrl, canvas: CanvasArg, image_position: Position,
                 remix_prompt: Prompt, areas: Areas = None, mask_url: MaskUrl = None) -> m.JobRequest:
    """Edit your own image: place it on a canvas and repaint masked regions from a prompt. 120 points."""
    return build_request(m.UploadPaintRequest, image_url=image_url, canvas=canvas,
                         image_position=image_position, remix_prompt=remix_prompt, mask=_mask(areas, mask_url))


def retexture(image_url: ImageUrl, remix_prompt: Prompt) -> m.JobRequest:
    """Keep an image's shapes and change materials and textures per the prompt. 120 points."""
    return build_request(m.RetextureRequest, image_url=image_url, remix_prompt=remix_prompt)


def remove_background(image_url: ImageUrl) -> m.JobRequest:
    """Cut out an image's subject on a transparent background. 80 points."""
    return build_request(m.RemoveBackgroundRequest, image_url=image_url)


def enhance(job_id: JobId, image_no: ImageNo) -> m.JobRequest:
    """Re-render one image of a --v 7 --draft job at full quality (draft parents only). 80 points."""
    return build_request(m.EnhanceRequest, job_id=job_id, image_no=image_no)


def video_diffusion(
        prompt: OptionalPrompt = None,
        job_id: Annotated[str | None, Field(max_length=128, description="Animate an image of this job...")] = None,
        image_no: Annotated[int | None, Field(ge=0, le=3, description="...this image of it (0-3)")] = None,
        image_url: Annotated[str | None, Field(max_length=1024, description="...or animate this image URL")] = None,
        video_type: Annotated[Literal["480p", "720p"], Field(description="Resolution; 720p costs more")] = "480p",
) -> m.JobRequest:
    """Animate an image into short videos (--motion low|high, --loop, --bs 1|2|4 in the prompt). 480 points."""
    text = prompt
    if image_url is not None:
        if job_id is not None or image_no is not None:
            raise InvalidRequestError("Give one source: job_id with image_no, or image_url (not both).", local=True)
        if not m.is_http_url(image_url):
            raise InvalidRequestError(f"image_url must be an http(s) URL (got {image_url[:60]!r}).", local=True)
        text = f"{image_url} {prompt or ''}".strip()
    return build_request(m.VideoDiffusionRequest, job_id=job_id, image_no=image_no, prompt=text,
                         video_type=_VIDEO[video_type])


def extend_video(job_id: JobId, video_no: VideoNo, prompt: OptionalPrompt = None) -> m.JobRequest:
    """Add 4 seconds to one video of a video job (at most 4 times). 480 points."""
    return build_request(m.ExtendVideoRequest, job_id=job_id, video_no=video_no, prompt=prompt)


def video_upscale(job_id: JobId, video_no: VideoNo) -> m.JobRequest:
    """Upscale one video of a video job to a higher resolution. 480 points."""
    return build_request(m.VideoUpscaleRequest, job_id=job_id, video_no=video_no)


def enhance_upscale(
        job_id: Annotated[str | None, Field(max_length=128, description="Upscale an image of this job...")] = None,
        image_no: Annotated[int | None, Field(ge=0, le=3, description="...this image of it (0-3)")] = None,
        image_url: Annotated[str | None, Field(max_length=1024, description="...or this image URL")] = None,
        target_resolution: Annotated[Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"], Field(
            description="Long edge: HD/FHD 1920, 2K 2560, 4K 3840, 6K 6144, 8K 7680, 12K 12288 px")] = "2K",
        content_type: Annotated[Literal["standard", "photo", "illustration", "text", "low_res"], Field(
            description="Enhancement model for the content")] = "standard") -> m.JobRequest:
    """Topaz upscale to up to 12K. 120 points (HD-2K), 160 (4K), 200 (6K), 300 (8K), 540 (12K)."""
    return build_request(m.EnhanceUpscaleRequest, job_id=job_id, image_no=image_no, image_url=image_url,
                         target_resolution=target_resolution, content_type=content_type)


GENERATE_AND_WAIT = ("Generate 4 images from a prompt and wait: text to image URLs in one call. 80 points, x2 "
                     "with turbo. Flags go in the prompt or as arguments.")


@dataclass(frozen=True)
class JobTool:
    """A builder and how it is offered: tool name, group (LEGNEXT_TOOLSETS), title, waiting."""

    build: Callable[..., m.JobRequest]
    group: str
    title: str
    name: str = ""
    description: str = ""
    #: Default of the ``wait`` argument; None means the tool always waits and has no ``wait`` argument.
    wait: bool | None = False
    preview: bool = True


#: Every paid tool, in the order tools/list shows them.
JOB_TOOLS: list[JobTool] = [
    JobTool(imagine, "core", "Generate images and wait", name="generate_and_wait", description=GENERATE_AND_WAIT,
            wait=None),
    JobTool(imagine, "edit", "Imagine (text to image)"),
    JobTool(upscale, "core", "Upscale an image"),
    JobTool(variation, "core", "Vary an image"),
    JobTool(reroll, "edit", "Reroll a job"),
    JobTool(describe, "core", "Describe an image", wait=True, preview=False),
    JobTool(shorten, "edit", "Shorten a prompt", wait=True, preview=False),
    JobTool(blend, "edit", "Blend images"),
    JobTool(pan, "edit", "Pan (extend one side)"),
    JobTool(outpaint, "edit", "Outpaint (zoom out)"),
    JobTool(inpaint, "edit", "Inpaint (repaint regions)"),
    JobTool(remix, "edit", "Remix with a new prompt"),
    JobTool(edit, "edit", "Edit on a canvas"),
    JobTool(upload_paint, "edit", "Edit an uploaded image"),
    JobTool(retexture, "edit", "Retexture an image"),
    JobTool(remove_background, "edit", "Remove background"),
    JobTool(enhance, "edit", "Enhance a draft image"),
    JobTool(enhance_upscale, "edit", "Topaz upscale (up to 12K)"),
    JobTool(video_diffusion, "video", "Image to video", preview=False),
    JobTool(extend_video, "video", "Extend a video", preview=False),
    JobTool(video_upscale, "video", "Upscale a video", preview=False),
]
