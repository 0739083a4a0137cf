"""One tool per Legnext job endpoint, plus ``generate_and_wait``, written as pure *builders*: typed
arguments in, a validated request out. ``tool_factory`` turns each into an MCP tool that adds the
waiting arguments, the checks before spending and the submit. A builder's docstring is its tool's
description; its parameters are the tool's (minus wait/timeout_s/include_preview)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Field

from legnext_mcp.api import models as m
from legnext_mcp.api.models import build_request
from legnext_mcp.api.prompt import merge_prompt

Prompt = Annotated[str, Field(min_length=1, max_length=8192, description=(
    "Prompt text, 1-8192 chars; Midjourney --flags go at the end (e.g. --ar 16:9 --v 7)"))]
OptionalPrompt = Annotated[str | None, Field(min_length=1, max_length=8192, description=(
    "Optional prompt guiding the new content, 1-8192 chars"))]
JobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                             description="job_id of the parent job, from an earlier result")]
ImageNo = Annotated[int, Field(ge=0, le=3, description="Which image of the parent: 0-3 (grid order, left to right)")]
VideoNo = Annotated[int, Field(ge=0, le=3, description="Which video of the parent: 0 to (number of videos - 1)")]
ImageUrl = Annotated[str, Field(min_length=8, max_length=1024, description="Public http(s) URL of an image")]
Wait = Annotated[bool, Field(description="Wait for the result (up to the soft deadline) instead of returning at once")]
Timeout = Annotated[float | None, Field(gt=0, le=3600, description="Longest wait in seconds (capped by the soft "
                                                                   "deadline)")]
Preview = Annotated[bool, Field(description="Attach a small JPEG preview (uses context)")]
PolygonArg = Annotated[m.Polygon, Field(description="Polygon: width/height of the image (500-4096 px) and "
                                                    "points x1,y1,x2,y2,... clockwise")]
Areas = Annotated[list[PolygonArg] | None, Field(min_length=1, max_length=32, description=(
    "Regions to repaint as polygons; give this or mask_url"))]
MaskUrl = Annotated[str | None, Field(max_length=1024, description=(
    "Black-and-white mask image URL (white = repaint); give this or areas"))]
CanvasArg = Annotated[m.Canvas, Field(description="Target canvas size in pixels")]
Position = Annotated[m.CanvasImage, Field(description="Size and x/y offset of the image on the canvas, in pixels")]

_VARIATION = {"subtle": m.VariationType.SUBTLE, "strong": m.VariationType.STRONG}
_UPSCALE = {"subtle": m.UpscaleType.SUBTLE, "creative": m.UpscaleType.CREATIVE}
_DIRECTION = {"down": m.PanDirection.DOWN, "right": m.PanDirection.RIGHT, "up": m.PanDirection.UP,
              "left": m.PanDirection.LEFT}
_REMIX = {"strong": m.RemixMode.STRONG, "subtle": m.RemixMode.SUBTLE}
_VIDEO = {"480p": m.VideoType.SD_480P, "720p": m.VideoType.HD_720P}


def _mask(areas: list[m.Polygon] | None, mask_url: str | None) -> dict[str, Any] | None:
    if areas is None and mask_url is None:
        return None
    return {"areas": areas, "url": mask_url}


# Typed Midjourney parameters (rendered as --flags by api.prompt.merge_prompt, checked per model version).
AspectRatio = Annotated[str | None, Field(pattern=r"^\d{1,5}:\d{1,5}$", description="--ar W:H, whole numbers")]
Version = Annotated[Literal["6", "6.1", "7", "8", "8.1", "niji 6"] | None, Field(description="model (default 7)")]
Stylize = Annotated[int | None, Field(ge=0, le=1000, description="--s: higher is more artistic")]
Chaos = Annotated[int | None, Field(ge=0, le=100, description="--c: variety between the 4 images")]
Weird = Annotated[int | None, Field(ge=0, le=3000, description="--w: unconventional look")]
Quality = Annotated[float | None, Field(ge=0.5, le=4, description="--q: 0.5, 1, 2 or 4, as the version allows")]
Seed = Annotated[int | None, Field(ge=0, le=4294967295, description="--seed for repeatable results")]
Stop = Annotated[int | None, Field(ge=10, le=100, description="--stop: finish early (not v8/v8.1)")]
Switch = Annotated[bool, Field(description="add the flag")]
Exp = Annotated[int | None, Field(ge=0, le=100, description="--exp (v7, v8, v8.1)")]
Negative = Annotated[str | None, Field(max_length=1000, description="--no: what to leave out")]
RefUrl = Annotated[str | None, Field(max_length=1024, description="image URL")]
Weight = Annotated[int | None, Field(ge=0, le=1000, description="reference weight")]
Speed = Annotated[Literal["fast", "turbo"] | None, Field(description="turbo: 2x cost, not v8/v8.1")]


def imagine(prompt: Prompt, aspect_ratio: AspectRatio = None, version: Version = None, stylize: Stylize = None,
            chaos: Chaos = None, weird: Weird = None, quality: Quality = None, seed: Seed = None,
            stop: Stop = None, raw: Switch = False, tile: Switch = False,
            draft: Annotated[bool, Field(description="--draft: v7 only; needed for enhance")] = False,
            exp: Exp = None, no: Negative = None,
            sref: Annotated[str | None, Field(max_length=2048, description="--sref: style URL(s) or code")] = None,
            sw: Annotated[int | None, Field(ge=0, le=1000, description="--sw: style weight")] = None,
            oref: Annotated[str | None, Field(max_length=1024, description="--oref: object URL (v7/v8)")] = None,
            ow: Weight = None,
            cref: Annotated[str | None, Field(max_length=2048, description="--cref: character image URL")] = None,
            cw: Annotated[int | None, Field(ge=0, le=100, description="--cw: character weight")] = None,
            iw: Annotated[float | None, Field(ge=0, le=3, description="--iw: image prompt weight")] = None,
            speed: Speed = None) -> m.JobRequest:
    """Generate a 2x2 grid of 4 images from a text prompt (POST /v1/diffusion). 80 points, x2 with turbo.
    Flags may be written in the prompt or given as arguments (not both)."""
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


GENERATE_AND_WAIT = ("Generate 4 images from a prompt and wait for them: the one call from text to image URLs. "
                     "80 points, x2 with turbo. Flags may be written in the prompt or given as arguments.")


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
    JobTool(imagine, "core", "Imagine (text to image)"),
    JobTool(upscale, "core", "Upscale an image"),
    JobTool(variation, "core", "Vary an image"),
    JobTool(reroll, "core", "Reroll a job"),
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
