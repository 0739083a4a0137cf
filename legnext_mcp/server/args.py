"""Every tool's arguments, one model per tool: types, ranges and a one-line description each.

Optional arguments accept ``null`` meaning "not given" (a client in OpenAI strict mode sends null for
every argument it leaves out), so defaults are applied here, when the operation is built, and stated in
the descriptions. The waiting arguments are defined once (``Waits``, ``MayWait``, ``Previews``) and mixed
into the tools that have them. The typed Midjourney parameters follow ``core.prompt.FLAGS``
(tests/server/test_args.py binds every range and choice to that table).

A tool function receives its arguments whole, as the validated model (see ``ToolArgs``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import ConfigDict, Field, WithJsonSchema

from legnext_mcp.core import operations as ops
from legnext_mcp.core.errors import LocalValidationError
from legnext_mcp.core.prompt import merge_prompt

MAX_TEXT = 8192
MAX_URL = 1024
MAX_ID = 128


class ToolArgs(ArgModelBase):
    """Base of every tool's arguments: unknown arguments are refused (a misspelt ``aspectRatio`` must not
    buy a square image), and the tool receives the validated model whole as ``call``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"call": self}

    # Defaults here, at the end of every tool's method order, so the waiting mixins override them.
    def should_wait(self) -> bool:
        return False

    def wants_preview(self) -> bool:
        return False

    def wait_limit(self) -> float | None:
        value = getattr(self, "timeout_s", None)
        return value if isinstance(value, float | int) else None


class JobArgs(ToolArgs):
    """Arguments of a paid tool: they build one operation."""

    def operation(self) -> ops.Operation:
        raise NotImplementedError


# --- shared argument types -----------------------------------------------------------------------------

Prompt = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="Prompt; --flags at the end")]
RemixPrompt = Annotated[str | None, Field(max_length=MAX_TEXT, description=(
    "Optional prompt for the new content (runs on the parent's model)"))]
ImageUrl = Annotated[str, Field(min_length=8, max_length=MAX_URL, description="Public http(s) image URL")]
ParentId = Annotated[str, Field(max_length=MAX_ID, description="job_id of the finished job to work on")]
VideoParentId = Annotated[str, Field(max_length=MAX_ID, description="job_id of a finished video job")]
ImageNo = Annotated[int, Field(ge=0, le=3, description="Which image of that job, 0-3 (its image_no)")]
VideoNo = Annotated[int, Field(ge=0, le=3, description="Which video of that job (its video_no), from 0")]
Areas = Annotated[list[ops.Polygon] | None, Field(max_length=32, description=(
    "Regions to repaint: polygons {width, height (500-4096 px), points [x1,y1,x2,y2,...] clockwise}; "
    "or give mask_url"))]
MaskUrl = Annotated[str | None, Field(max_length=MAX_URL, description=(
    "Mask image URL (white = repaint); or give areas"))]
CanvasArg = Annotated[ops.Canvas, Field(description="Target canvas {width, height} in px (1-8192)")]
Position = Annotated[ops.CanvasImage, Field(description="Image {width, height, x, y} on the canvas, px")]


class Waits(ToolArgs):
    """The tool waits for the job (generate_and_wait)."""

    timeout_s: Annotated[float | None, Field(ge=1, le=3600, description=(
        "Longest wait in seconds, at most the server's soft deadline; a job still running then comes back with "
        "its id"))] = None

    def should_wait(self) -> bool:
        return True


class MayWait(Waits):
    wait: Annotated[bool | None,
        Field(description="Wait for the result (default false: return the job_id at once)")] = None

    def should_wait(self) -> bool:
        return bool(self.wait)


class WaitsByDefault(Waits):
    wait: Annotated[bool | None, Field(description="Wait for the result (default true)")] = None

    def should_wait(self) -> bool:
        return self.wait is not False


class Previews(ToolArgs):
    include_preview: Annotated[bool | None,
        Field(description="Attach a small JPEG of the result (default false)")] = None

    def wants_preview(self) -> bool:
        return bool(self.include_preview)


def _mask(tool: str, areas: list[ops.Polygon] | None, mask_url: str | None, *, required: bool) -> ops.Mask | None:
    if areas is not None and mask_url is not None:
        raise LocalValidationError(f"{tool}: give areas (polygons) or mask_url (a mask image), not both.")
    if areas is None and mask_url is None:
        if required:
            raise LocalValidationError(f"{tool} needs the region to repaint: give areas (polygons) or mask_url.")
        return None
    return ops.Mask(areas=areas, url=mask_url)


# --- image generation ------------------------------------------------------------------------------------


class MidjourneyParams(ToolArgs):
    """The typed Midjourney parameters (rendered as --flags after the prompt, in the documented order)."""

    aspect_ratio: Annotated[str | None, Field(pattern=r"^[0-9]{1,5}:[0-9]{1,5}$", max_length=11, description=(
        "--ar width:height in whole numbers, e.g. 16:9 (default 1:1)"))] = None
    version: Annotated[Literal["6", "6.1", "7", "8", "8.1", "niji 6"] | None, Field(description=(
        "Model (default 7)"))] = None
    stylize: Annotated[int | None, Field(ge=0, le=1000, description=(
        "--s: 0 follows the prompt, 1000 is artistic"))] = None
    chaos: Annotated[int | None, Field(ge=0, le=100, description="--c: variety among the 4 images")] = None
    weird: Annotated[int | None, Field(ge=0, le=3000, description="--w: unusual aesthetics")] = None
    quality: Annotated[Literal["0.5", "1", "2", "4"] | None, Field(description=(
        "--q per model: v6 1,2; v6.1 and niji 6 0.5,1,2; v7 1,2,4; v8 1,4 (4 costs 4x); not v8.1"))] = None
    seed: Annotated[int | None, Field(ge=0, le=4294967295, description="--seed for repeatable results")] = None
    stop: Annotated[int | None, Field(ge=10, le=100, description="--stop: finish early, softer (not v8/v8.1)")] = None
    raw: Annotated[bool | None, Field(description="--raw: less default styling")] = None
    tile: Annotated[bool | None, Field(description="--tile: seamless pattern")] = None
    draft: Annotated[bool | None, Field(description="--draft: fast v7 draft (needed for enhance)")] = None
    exp: Annotated[int | None, Field(ge=0, le=100, description="--exp experimental aesthetics (v7, v8, v8.1)")] = None
    no: Annotated[str | None, Field(max_length=1000, description="--no: what to leave out (v6.1, v7, v8)")] = None
    sref: Annotated[str | None, Field(max_length=2048, description=(
        "--sref style reference: image URL(s) or a code"))] = None
    sw: Annotated[int | None, Field(ge=0, le=1000, description="--sw weight of sref (needs sref)")] = None
    oref: Annotated[str | None, Field(max_length=MAX_URL, description=(
        "--oref object reference URL (v7, v8; 2x cost)"))] = None
    ow: Annotated[int | None, Field(ge=0, le=1000, description="--ow weight of oref (needs oref)")] = None
    cref: Annotated[str | None, Field(max_length=2048, description=(
        "--cref character reference URL(s) (not v8+)"))] = None
    cw: Annotated[int | None, Field(ge=0, le=100, description="--cw weight of cref (needs cref)")] = None
    iw: Annotated[float | None, Field(ge=0, le=3, description="--iw weight of image URLs at the prompt's start")] = None
    speed: Annotated[Literal["fast", "turbo"] | None, Field(description="turbo: about 4x faster, 2x cost")] = None

    def text(self, prompt: str) -> str:
        """The prompt with these parameters as flags, checked as a whole.

        Raises:
            PromptError / LocalValidationError: a rule of the prompt grammar, or a weight without its reference.
        """
        params = {name: getattr(self, name) for name in MidjourneyParams.model_fields}
        for weight, reference in (("sw", "sref"), ("ow", "oref"), ("cw", "cref")):
            if params[weight] is not None and params[reference] is None and f"--{reference}" not in prompt:
                raise LocalValidationError(f"{weight} weighs the {reference} reference: give {reference} too, or leave "
                                           f"{weight} out.")
        if params["quality"] is not None:
            params["quality"] = float(params["quality"])
        return merge_prompt(prompt, params)


class GenerateArgs(MidjourneyParams, Waits, Previews, JobArgs):
    prompt: Prompt

    def operation(self) -> ops.Operation:
        return ops.Imagine(prompt=self.text(self.prompt))


class ImagineArgs(MayWait, GenerateArgs):
    pass


class UpscaleArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    type: Annotated[Literal["subtle", "creative"] | None, Field(description="subtle (default) or creative")] = None

    def operation(self) -> ops.Operation:
        return ops.Upscale(parent=self.job_id, index=self.image_no, mode=self.type or "subtle")


class VariationArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    type: Annotated[Literal["subtle", "strong"] | None, Field(description="subtle (default) or strong")] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Variation(parent=self.job_id, index=self.image_no, strength=self.type or "subtle",
                             prompt=self.remix_prompt or None)


class RerollArgs(MayWait, Previews, JobArgs):
    job_id: Annotated[str, Field(max_length=MAX_ID, description="job_id of the finished job to run again")]

    def operation(self) -> ops.Operation:
        return ops.Reroll(parent=self.job_id)


class DescribeArgs(WaitsByDefault, JobArgs):
    image_url: ImageUrl

    def operation(self) -> ops.Operation:
        return ops.Describe(image_url=self.image_url)


class ShortenArgs(WaitsByDefault, JobArgs):
    prompt: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="The prompt to shorten")]

    def operation(self) -> ops.Operation:
        return ops.Shorten(prompt=self.prompt)


class BlendArgs(MayWait, Previews, JobArgs):
    image_urls: Annotated[list[str], Field(min_length=2, max_length=5, description="2-5 public image URLs")]
    aspect_ratio: Annotated[Literal["2:3", "1:1", "3:2"] | None, Field(description="Output shape (default 1:1)")] = None

    def operation(self) -> ops.Operation:
        return ops.Blend(image_urls=self.image_urls, aspect=self.aspect_ratio or "1:1")


class PanArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    direction: Annotated[Literal["down", "right", "up", "left"], Field(description="Side to extend")]
    scale: Annotated[float | None, Field(ge=1.1, le=3.0, description=(
        "New/old size on that side, 1.1-3.0 (default 1.5)"))] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Pan(parent=self.job_id, index=self.image_no, direction=self.direction, scale=self.scale or 1.5,
                       prompt=self.remix_prompt or None)


class OutpaintArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    scale: Annotated[float | None, Field(ge=1.1, le=2.0, description="Zoom-out factor, 1.1-2.0 (default 1.5)")] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Outpaint(parent=self.job_id, index=self.image_no, scale=self.scale or 1.5,
                            prompt=self.remix_prompt or None)


class InpaintArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    areas: Areas = None
    mask_url: MaskUrl = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        mask = _mask("inpaint", self.areas, self.mask_url, required=True)
        assert mask is not None
        return ops.Inpaint(parent=self.job_id, index=self.image_no, mask=mask, prompt=self.remix_prompt or None)


class RemixArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    remix_prompt: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="The new prompt")]
    mode: Annotated[Literal["strong", "subtle"] | None,
        Field(description="How much may change: strong (default) or subtle")] = None

    def operation(self) -> ops.Operation:
        return ops.Remix(parent=self.job_id, index=self.image_no, prompt=self.remix_prompt, mode=self.mode or "strong")


#: The prompt of edit and upload_paint (what to paint into the empty and masked parts).
PaintPrompt = Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="What to paint")]


class EditArgs(MayWait, Previews, JobArgs):
    job_id: ParentId
    image_no: ImageNo
    canvas: CanvasArg
    image_position: Position
    remix_prompt: PaintPrompt
    areas: Areas = None
    mask_url: MaskUrl = None

    def operation(self) -> ops.Operation:
        return ops.Edit(parent=self.job_id, index=self.image_no, canvas=self.canvas, position=self.image_position,
                        prompt=self.remix_prompt, mask=_mask("edit", self.areas, self.mask_url, required=False))


class UploadPaintArgs(MayWait, Previews, JobArgs):
    image_url: ImageUrl
    canvas: CanvasArg
    image_position: Position
    remix_prompt: PaintPrompt
    areas: Areas = None
    mask_url: MaskUrl = None

    def operation(self) -> ops.Operation:
        mask = _mask("upload_paint", self.areas, self.mask_url, required=True)
        assert mask is not None
        return ops.UploadPaint(image_url=self.image_url, canvas=self.canvas, position=self.image_position,
                               prompt=self.remix_prompt, mask=mask)


class RetextureArgs(MayWait, Previews, JobArgs):
    image_url: ImageUrl
    remix_prompt: Annotated[str, Field(min_length=1, max_length=MAX_TEXT, description="New materials and textures")]

    def operation(self) -> ops.Operation:
        return ops.Retexture(image_url=self.image_url, prompt=self.remix_prompt)


class RemoveBackgroundArgs(MayWait, Previews, JobArgs):
    image_url: ImageUrl

    def operation(self) -> ops.Operation:
        return ops.RemoveBackground(image_url=self.image_url)


class EnhanceArgs(MayWait, Previews, JobArgs):
    job_id: Annotated[str, Field(max_length=MAX_ID, description="job_id of a finished --v 7 --draft job")]
    image_no: ImageNo

    def operation(self) -> ops.Operation:
        return ops.Enhance(parent=self.job_id, index=self.image_no)


_SOURCE = "Give job_id with image_no, or image_url (not both)"


def _source(tool: str, job_id: str | None, image_no: int | None, image_url: str | None) -> None:
    if image_url is not None and (job_id is not None or image_no is not None):
        raise LocalValidationError(f"{tool}: {_SOURCE}.")
    if image_url is None and (job_id is None or image_no is None):
        raise LocalValidationError(f"{tool} needs a source: {_SOURCE.lower()}.")


class EnhanceUpscaleArgs(MayWait, Previews, JobArgs):
    job_id: Annotated[str | None, Field(max_length=MAX_ID,
        description=f"Finished job whose image to upscale. {_SOURCE}")] = None
    image_no: Annotated[int | None, Field(ge=0, le=3, description="Its image, 0-3")] = None
    image_url: Annotated[str | None, Field(max_length=MAX_URL, description="Or a public image URL")] = None
    target_resolution: Annotated[Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"] | None, Field(description=(
        "Long edge: HD/FHD 1920, 2K 2560 (default), 4K 3840, 6K 6144, 8K 7680, 12K 12288 px"))] = None
    content_type: Annotated[Literal["standard", "photo", "illustration", "text", "low_res"] | None, Field(
        description="Model for the content (default standard)")] = None

    def operation(self) -> ops.Operation:
        _source("enhance_upscale", self.job_id, self.image_no, self.image_url)
        return ops.EnhanceUpscale(parent=self.job_id, index=self.image_no, image_url=self.image_url,
                                  resolution=self.target_resolution or "2K", content=self.content_type or "standard")


class VideoArgs(MayWait, JobArgs):
    prompt: Annotated[str | None, Field(max_length=MAX_TEXT, description=(
        "Motion prompt; may end with --motion low|high, --loop, --raw, --end <url>, --bs 1|2|4"))] = None
    job_id: Annotated[str | None, Field(max_length=MAX_ID,
        description=f"Finished job whose image to animate. {_SOURCE}")] = None
    image_no: Annotated[int | None, Field(ge=0, le=3, description="Its image, 0-3")] = None
    image_url: Annotated[str | None, Field(max_length=MAX_URL, description="Or a public image URL to animate")] = None
    video_type: Annotated[Literal["480p", "720p"] | None,
        Field(description="480p (default) or 720p (costs more)")] = None

    def operation(self) -> ops.Operation:
        _source("video_diffusion", self.job_id, self.image_no, self.image_url)
        return ops.Video(parent=self.job_id, index=self.image_no, image_url=self.image_url, prompt=self.prompt or None,
                         resolution=self.video_type or "480p")


class ExtendVideoArgs(MayWait, JobArgs):
    job_id: VideoParentId
    video_no: VideoNo
    prompt: Annotated[str | None, Field(max_length=MAX_TEXT, description=(
        "Optional motion prompt for the added part"))] = None

    def operation(self) -> ops.Operation:
        return ops.ExtendVideo(parent=self.job_id, index=self.video_no, prompt=self.prompt or None)


class VideoUpscaleArgs(MayWait, JobArgs):
    job_id: VideoParentId
    video_no: VideoNo

    def operation(self) -> ops.Operation:
        return ops.VideoUpscale(parent=self.job_id, index=self.video_no)


# --- job tools that spend nothing ----------------------------------------------------------------------


class WaitArgs(Waits):
    job_ids: Annotated[list[Annotated[str, Field(max_length=MAX_ID)]], Field(min_length=1, max_length=10, description=(
        "One or more job_ids (up to 10), waited for together"))]


class GetJobArgs(ToolArgs):
    job_id: Annotated[str, Field(max_length=MAX_ID, description="job_id to look at")]


class SaveArgs(ToolArgs):
    job_id: Annotated[str, Field(max_length=MAX_ID, description="job_id of a completed job whose files to save")]
    folder: Annotated[str | None, Field(max_length=64, description=(
        "Sub-folder of the output directory (a name, not a path)"))] = None


class ListArgs(ToolArgs):
    status: Annotated[Literal["pending", "staged", "processing", "completed", "failed"] | None, Field(
        description="Only jobs in this status")] = None
    task_type: Annotated[str | None, Field(max_length=40, description=(
        "Only this kind: diffusion, upscale, variation, describe, video-diffusion, ..."))] = None
    limit: Annotated[int | None, Field(ge=1, le=100, description="How many, newest first (default 20)")] = None


class NoArgs(ToolArgs):
    pass


class EstimateArgs(ToolArgs):
    tool: Annotated[str, Field(max_length=64, description="Name of the paid tool, e.g. generate_and_wait, upscale")]
    # Published as a string (JSON text): an open object would make OpenAI strict mode drop the tool. An
    # object is accepted as well.
    arguments: Annotated[str | dict[str, Any], WithJsonSchema({"type": "string"}), Field(description=(
        "The arguments you would pass to that tool, as JSON, e.g. {\"job_id\": \"...\", \"image_no\": 0}"))]
