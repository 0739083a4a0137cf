"""One tool per Legnext job endpoint, plus ``generate_and_wait``. Thin: arguments -> request -> submit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult
from pydantic import Field

from legnext_mcp.api import models as m
from legnext_mcp.server.results import JobResult
from legnext_mcp.server.runtime import submit

Ctx = Context[Any, Any]
Result = Annotated[CallToolResult, JobResult]

Prompt = Annotated[str, Field(min_length=1, max_length=8192, description=(
    "Prompt text, 1-8192 chars; Midjourney --flags go at the end (e.g. --ar 16:9 --v 7)"))]
OptionalPrompt = Annotated[str | None, Field(min_length=1, max_length=8192, description=(
    "Optional prompt guiding the new content, 1-8192 chars"))]
JobId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
                             description="job_id of the parent job, from an earlier result")]
ImageNo = Annotated[int, Field(ge=0, le=3, description="Which image of the parent: 0-3 (grid order, left to right)")]
VideoNo = Annotated[int, Field(ge=0, le=3, description="Which video of the parent: 0 to (number of videos - 1)")]
ImageUrl = Annotated[str, Field(min_length=8, max_length=1024, description="Public http(s) URL of an image")]
Wait = Annotated[bool, Field(description="Wait for the result (up to the server's soft deadline) instead of "
                                         "returning the pending job at once")]
Timeout = Annotated[float | None, Field(gt=0, le=3600, description=(
    "Longest wait in seconds for this call; capped by the soft deadline (default)"))]
Preview = Annotated[bool, Field(description="Attach a small JPEG preview of the result (uses context)")]
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


async def imagine(ctx: Ctx, prompt: Prompt, wait: Wait = False, timeout_s: Timeout = None,
                  include_preview: Preview = False) -> Result:
    """Generate a 2x2 grid of 4 images from a text prompt (POST /v1/diffusion). 80 points, x2 with --turbo."""
    return await submit(ctx, m.DiffusionRequest, text=prompt, wait=wait, timeout_s=timeout_s,
                        include_preview=include_preview)


async def generate_and_wait(ctx: Ctx, prompt: Prompt, timeout_s: Timeout = None,
                            include_preview: Preview = False) -> Result:
    """Generate 4 images from a prompt and wait for them: the one call from text to image URLs. 80 points."""
    return await submit(ctx, m.DiffusionRequest, text=prompt, wait=True, timeout_s=timeout_s,
                        include_preview=include_preview)


async def variation(ctx: Ctx, job_id: JobId, image_no: ImageNo,
                    type: Annotated[Literal["subtle", "strong"], Field(description="How far to vary")] = "subtle",
                    remix_prompt: OptionalPrompt = None, wait: Wait = False, timeout_s: Timeout = None,
                    include_preview: Preview = False) -> Result:
    """Make 4 variations of one image of a finished job (subtle or strong). 120 points."""
    return await submit(ctx, m.VariationRequest, job_id=job_id, image_no=image_no, type=_VARIATION[type],
                        remix_prompt=remix_prompt, wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def upscale(ctx: Ctx, job_id: JobId, image_no: ImageNo,
                  type: Annotated[Literal["subtle", "creative"], Field(
                      description="subtle keeps details; creative adds artistic detail")] = "subtle",
                  wait: Wait = False, timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Upscale one image of a finished job to a single large image. 120 points."""
    return await submit(ctx, m.UpscaleRequest, job_id=job_id, image_no=image_no, type=_UPSCALE[type], wait=wait,
                        timeout_s=timeout_s, include_preview=include_preview)


async def reroll(ctx: Ctx, job_id: JobId, wait: Wait = False, timeout_s: Timeout = None,
                 include_preview: Preview = False) -> Result:
    """Run a finished job's prompt again for 4 new images. 80 points."""
    return await submit(ctx, m.RerollRequest, job_id=job_id, wait=wait, timeout_s=timeout_s,
                        include_preview=include_preview)


async def blend(ctx: Ctx,
                image_urls: Annotated[list[str], Field(min_length=2, max_length=5, description="2-5 image URLs")],
                aspect_ratio: Annotated[Literal["2:3", "1:1", "3:2"], Field(description="Output aspect")] = "1:1",
                wait: Wait = False, timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Blend 2-5 images into 4 new ones. 80 points."""
    return await submit(ctx, m.BlendRequest, image_urls=image_urls, aspect_ratio=aspect_ratio, wait=wait,
                        timeout_s=timeout_s, include_preview=include_preview)


async def describe(ctx: Ctx, image_url: ImageUrl, wait: Wait = True, timeout_s: Timeout = None) -> Result:
    """Write 4 prompts that describe an image (use one with imagine). 20 points."""
    return await submit(ctx, m.DescribeRequest, image_url=image_url, wait=wait, timeout_s=timeout_s,
                        include_preview=False)


async def shorten(ctx: Ctx, prompt: Prompt, wait: Wait = True, timeout_s: Timeout = None) -> Result:
    """Suggest shorter versions of a long prompt, keeping its key words. 20 points."""
    return await submit(ctx, m.ShortenRequest, prompt=prompt, wait=wait, timeout_s=timeout_s, include_preview=False)


async def pan(ctx: Ctx, job_id: JobId, image_no: ImageNo,
              direction: Annotated[Literal["down", "right", "up", "left"], Field(description="Side to extend")],
              scale: Annotated[float, Field(ge=1.1, le=3.0,
                                            description="New size / old size on that side, 1.1-3.0")] = 1.5,
              remix_prompt: OptionalPrompt = None, wait: Wait = False, timeout_s: Timeout = None,
              include_preview: Preview = False) -> Result:
    """Extend one image in one direction (not on v8/v8.1 images). 80 points."""
    return await submit(ctx, m.PanRequest, job_id=job_id, image_no=image_no, direction=_DIRECTION[direction],
                        scale=scale, remix_prompt=remix_prompt, wait=wait, timeout_s=timeout_s,
                        include_preview=include_preview)


async def outpaint(ctx: Ctx, job_id: JobId, image_no: ImageNo,
                   scale: Annotated[float, Field(ge=1.1, le=2.0, description="Zoom-out factor, 1.1-2.0")] = 1.5,
                   remix_prompt: OptionalPrompt = None, wait: Wait = False, timeout_s: Timeout = None,
                   include_preview: Preview = False) -> Result:
    """Zoom out: extend one image in all directions (not on v8/v8.1 images). 80 points."""
    return await submit(ctx, m.OutpaintRequest, job_id=job_id, image_no=image_no, scale=scale,
                        remix_prompt=remix_prompt, wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def inpaint(ctx: Ctx, job_id: JobId, image_no: ImageNo, areas: Areas = None, mask_url: MaskUrl = None,
                  remix_prompt: OptionalPrompt = None, wait: Wait = False, timeout_s: Timeout = None,
                  include_preview: Preview = False) -> Result:
    """Repaint regions of one image (polygons or a mask image), guided by a prompt. 120 points."""
    return await submit(ctx, m.InpaintRequest, job_id=job_id, image_no=image_no, mask=_mask(areas, mask_url),
                        remix_prompt=remix_prompt, wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def remix(ctx: Ctx, job_id: JobId, image_no: ImageNo, remix_prompt: Prompt,
                mode: Annotated[Literal["strong", "subtle"], Field(description="How much may change")] = "strong",
                wait: Wait = False, timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Redraw one image with a new prompt (strong or subtle). 120 points."""
    return await submit(ctx, m.RemixRequest, job_id=job_id, image_no=image_no, remix_prompt=remix_prompt,
                        mode=_REMIX[mode], wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def edit(ctx: Ctx, job_id: JobId, image_no: ImageNo, canvas: CanvasArg, image_position: Position,
               remix_prompt: Prompt, areas: Areas = None, mask_url: MaskUrl = None, wait: Wait = False,
               timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Place one image on a new canvas and repaint (empty areas and masked regions) from a prompt. 120 points."""
    return await submit(ctx, m.EditRequest, job_id=job_id, image_no=image_no, canvas=canvas,
                        image_position=image_position, remix_prompt=remix_prompt, mask=_mask(areas, mask_url),
                        wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def upload_paint(ctx: Ctx, image_url: ImageUrl, canvas: CanvasArg, image_position: Position,
                       remix_prompt: Prompt, areas: Areas = None, mask_url: MaskUrl = None, wait: Wait = False,
                       timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Edit your own image: place it on a canvas and repaint masked regions from a prompt. 120 points."""
    return await submit(ctx, m.UploadPaintRequest, image_url=image_url, canvas=canvas,
                        image_position=image_position, remix_prompt=remix_prompt, mask=_mask(areas, mask_url),
                        wait=wait, timeout_s=timeout_s, include_preview=include_preview)


async def retexture(ctx: Ctx, image_url: ImageUrl, remix_prompt: Prompt, wait: Wait = False,
                    timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Keep an image's shapes and change materials and textures per the prompt. 120 points."""
    return await submit(ctx, m.RetextureRequest, image_url=image_url, remix_prompt=remix_prompt, wait=wait,
                        timeout_s=timeout_s, include_preview=include_preview)


async def remove_background(ctx: Ctx, image_url: ImageUrl, wait: Wait = False, timeout_s: Timeout = None,
                            include_preview: Preview = False) -> Result:
    """Cut out an image's subject on a transparent background. 80 points."""
    return await submit(ctx, m.RemoveBackgroundRequest, image_url=image_url, wait=wait, timeout_s=timeout_s,
                        include_preview=include_preview)


async def enhance(ctx: Ctx, job_id: JobId, image_no: ImageNo, wait: Wait = False, timeout_s: Timeout = None,
                  include_preview: Preview = False) -> Result:
    """Re-render one image of a --v 7 --draft job at full quality (draft parents only). 80 points."""
    return await submit(ctx, m.EnhanceRequest, job_id=job_id, image_no=image_no, wait=wait, timeout_s=timeout_s,
                        include_preview=include_preview)


async def video_diffusion(
        ctx: Ctx, prompt: OptionalPrompt = None,
        job_id: Annotated[str | None, Field(max_length=128, description="Animate an image of this job...")] = None,
        image_no: Annotated[int | None, Field(ge=0, le=3, description="...this image of it (0-3)")] = None,
        image_url: Annotated[str | None, Field(max_length=1024, description="...or animate this image URL")] = None,
        video_type: Annotated[Literal["480p", "720p"], Field(description="Resolution; 720p costs more")] = "480p",
        wait: Wait = False, timeout_s: Timeout = None) -> Result:
    """Animate an image into short videos (--motion low|high, --loop, --bs 1|2|4 in the prompt). 480 points."""
    text = prompt
    if image_url is not None:
        text = f"{image_url} {prompt or ''}".strip()
    return await submit(ctx, m.VideoDiffusionRequest, job_id=job_id, image_no=image_no, prompt=text,
                        video_type=_VIDEO[video_type], wait=wait, timeout_s=timeout_s, include_preview=False)


async def extend_video(ctx: Ctx, job_id: JobId, video_no: VideoNo, prompt: OptionalPrompt = None,
                       wait: Wait = False, timeout_s: Timeout = None) -> Result:
    """Add 4 seconds to one video of a video job (at most 4 times). 480 points."""
    return await submit(ctx, m.ExtendVideoRequest, job_id=job_id, video_no=video_no, prompt=prompt, wait=wait,
                        timeout_s=timeout_s, include_preview=False)


async def video_upscale(ctx: Ctx, job_id: JobId, video_no: VideoNo, wait: Wait = False,
                        timeout_s: Timeout = None) -> Result:
    """Upscale one video of a video job to a higher resolution. 480 points."""
    return await submit(ctx, m.VideoUpscaleRequest, job_id=job_id, video_no=video_no, wait=wait,
                        timeout_s=timeout_s, include_preview=False)


async def enhance_upscale(
        ctx: Ctx,
        job_id: Annotated[str | None, Field(max_length=128, description="Upscale an image of this job...")] = None,
        image_no: Annotated[int | None, Field(ge=0, le=3, description="...this image of it (0-3)")] = None,
        image_url: Annotated[str | None, Field(max_length=1024, description="...or this image URL")] = None,
        target_resolution: Annotated[Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"], Field(
            description="Long edge: HD/FHD 1920, 2K 2560, 4K 3840, 6K 6144, 8K 7680, 12K 12288 px")] = "2K",
        content_type: Annotated[Literal["standard", "photo", "illustration", "text", "low_res"], Field(
            description="Enhancement model for the content")] = "standard",
        wait: Wait = False, timeout_s: Timeout = None, include_preview: Preview = False) -> Result:
    """Topaz upscale to up to 12K. 120 points (HD-2K), 160 (4K), 200 (6K), 300 (8K), 540 (12K)."""
    return await submit(ctx, m.EnhanceUpscaleRequest, job_id=job_id, image_no=image_no, image_url=image_url,
                        target_resolution=target_resolution, content_type=content_type, wait=wait,
                        timeout_s=timeout_s, include_preview=include_preview)


#: (tool, group, title) for every paid tool, in the order tools/list shows them.
JOB_TOOLS: list[tuple[Callable[..., Any], str, str]] = [
    (generate_and_wait, "core", "Generate images and wait"),
    (imagine, "core", "Imagine (text to image)"),
    (upscale, "core", "Upscale an image"),
    (variation, "core", "Vary an image"),
    (reroll, "core", "Reroll a job"),
    (describe, "core", "Describe an image"),
    (shorten, "edit", "Shorten a prompt"),
    (blend, "edit", "Blend images"),
    (pan, "edit", "Pan (extend one side)"),
    (outpaint, "edit", "Outpaint (zoom out)"),
    (inpaint, "edit", "Inpaint (repaint regions)"),
    (remix, "edit", "Remix with a new prompt"),
    (edit, "edit", "Edit on a canvas"),
    (upload_paint, "edit", "Edit an uploaded image"),
    (retexture, "edit", "Retexture an image"),
    (remove_background, "edit", "Remove background"),
    (enhance, "edit", "Enhance a draft image"),
    (enhance_upscale, "edit", "Topaz upscale (up to 12K)"),
    (video_diffusion, "video", "Image to video"),
    (extend_video, "video", "Extend a video"),
    (video_upscale, "video", "Upscale a video"),
]
