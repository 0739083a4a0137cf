"""Every tool's arguments, one model per tool: types, ranges and a one-line description each.

Optional arguments accept ``null`` meaning "not given" (a client in OpenAI strict mode sends null for
every argument it leaves out), so defaults are applied here, when the operation is built, and stated in
the descriptions. The typed Midjourney parameters follow ``core.prompt.FLAGS`` (tests/server/test_args.py
binds every range and choice to that table).

Who waits (a decision made for the model's context, README "Performance"): the job tools submit and
return the job_id at once; ``wait_for_job`` waits (``timeout_s``, ``include_preview``); generate_and_wait is
the one call from a prompt to images, describe and shorten (seconds, 20 points) always wait. Waiting
arguments on 20 job tools and the typed parameters twice cost ~2,300 tokens of every conversation.

A tool function receives its arguments whole, as the validated model (see ``ToolArgs``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from pydantic import ConfigDict, Field, ValidationError, WithJsonSchema

from legnext_mcp.core import operations as ops
from legnext_mcp.core.errors import LegnextError, LocalValidationError
from legnext_mcp.core.ids import JobId
from legnext_mcp.core.limits import MAX_PROMPT_CHARS as MAX_TEXT
from legnext_mcp.core.policy import BATCH_PROMPTS
from legnext_mcp.core.problems import describe
from legnext_mcp.core.prompt import merge_prompt


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

Prompt = Annotated[str, Field(max_length=MAX_TEXT, description=(
    "Prompt; other --flags at the end (--w, --stop, --exp, --iw, ...)"))]
RemixPrompt = Annotated[str | None, Field(max_length=MAX_TEXT, description=(
    "Prompt for the new content"))]
# Job ids and image URLs are checked by their one rule (core.ids.JobId; core.limits.ImageUrl when the operation
# is built), so their length limits are not restated in every tool's schema.
ImageUrl = Annotated[str, Field(description="Public http(s) image URL or local path")]
ParentId = Annotated[JobId, Field(description="The finished job to work on")]
VideoParentId = Annotated[JobId, Field(description="A finished video job")]
ImageNo = Annotated[int, Field(ge=0, le=3, description="Which of its 4 images")]
VideoNo = Annotated[int, Field(ge=0, le=3, description="Which of its videos (video_no)")]
Areas = Annotated[list[ops.Polygon] | None, Field(max_length=32, description=(
    "Polygons to repaint (points x1,y1,x2,y2,... clockwise on a width x height image); or mask_url"))]
MaskUrl = Annotated[str | None, Field(description=(
    "Mask image URL (white = repaint); or give areas"))]
CanvasArg = Annotated[ops.Canvas, Field(description="Canvas size, px")]
Position = Annotated[ops.CanvasImage, Field(description="Where the image sits on the canvas, px")]


class Waits(ToolArgs):
    """The tool waits for its job, up to the soft deadline."""

    def should_wait(self) -> bool:
        return True


class WaitLimit(Waits):
    timeout_s: Annotated[float | None, Field(ge=1, le=3600, description=(
        "Seconds to wait at most (up to the soft deadline)"))] = None


class Previews(ToolArgs):
    include_preview: Annotated[bool | None,
        Field(description="Attach a small JPEG preview")] = None

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
    """The typed Midjourney parameters (rendered as --flags after the prompt, in the documented order).

    The common ones: --w, --stop, --exp and --iw are taken in the prompt only (each typed parameter costs
    every conversation ~40 tokens; README "Performance")."""

    aspect_ratio: Annotated[str | None, Field(pattern=r"^[0-9]{1,5}:[0-9]{1,5}$", description=(
        "--ar width:height in whole numbers, e.g. 16:9 (default 1:1)"))] = None
    version: Annotated[Literal["6", "6.1", "7", "8", "8.1", "niji 6"] | None, Field(description=(
        "Model (default 7)"))] = None
    stylize: Annotated[int | None, Field(ge=0, le=1000, description=(
        "--s: 0 follows the prompt, 1000 is artistic"))] = None
    chaos: Annotated[int | None, Field(ge=0, le=100, description="--c: variety among the 4 images")] = None
    quality: Annotated[Literal["0.5", "1", "2", "4"] | None, Field(description=(
        "--q per model: v6 1,2; v6.1 and niji 6 0.5,1,2; v7 1,2,4; v8 1,4 (4 costs 4x); not v8.1"))] = None
    seed: Annotated[int | None, Field(ge=0, le=4294967295, description="--seed for repeatable results")] = None
    raw: Annotated[bool | None, Field(description="--raw: less default styling")] = None
    tile: Annotated[bool | None, Field(description="--tile: seamless pattern")] = None
    draft: Annotated[bool | None, Field(description="--draft: fast v7 draft (needed for enhance)")] = None
    no: Annotated[str | None, Field(description="--no: what to leave out (v6.1, v7, v8)")] = None
    sref: Annotated[str | None, Field(description=(
        "--sref style reference: image URL(s) or a code"))] = None
    sw: Annotated[int | None, Field(ge=0, le=1000, description="--sw weight of sref (needs sref)")] = None
    oref: Annotated[str | None, Field(description=(
        "--oref object reference URL (v7, v8; 2x cost)"))] = None
    ow: Annotated[int | None, Field(ge=0, le=1000, description="--ow weight of oref (needs oref)")] = None
    cref: Annotated[str | None, Field(description=(
        "--cref character reference URL(s) (not v8+)"))] = None
    cw: Annotated[int | None, Field(ge=0, le=100, description="--cw weight of cref (needs cref)")] = None
    speed: Annotated[Literal["fast", "turbo"] | None, Field(description="turbo: about 4x faster, 2x cost")] = None

    def text(self, prompt: str) -> str:
        """The prompt with these parameters as flags, checked as a whole.

        Raises:
            PromptError / LocalValidationError: a rule of the prompt grammar, or a weight without its reference.
        """
        params = {name: getattr(self, name) for name in MidjourneyParams.model_fields}
        written = len(prompt) + sum(len(value) for value in params.values() if isinstance(value, str))
        if written > MAX_TEXT:  # the prompt's one limit, checked before any text is parsed
            raise LocalValidationError(f"The prompt with its parameters is {written} characters; the API takes at "
                                       f"most {MAX_TEXT}.")
        for weight, reference in (("sw", "sref"), ("ow", "oref"), ("cw", "cref")):
            if params[weight] is not None and params[reference] is None and f"--{reference}" not in prompt:
                raise LocalValidationError(f"{weight} weighs the {reference} reference: give {reference} too, or leave "
                                           f"{weight} out.")
        if params["quality"] is not None:
            params["quality"] = float(params["quality"])
        return merge_prompt(prompt, params)


class GenerateArgs(WaitLimit, Previews, JobArgs):
    prompt: Annotated[str, Field(max_length=MAX_TEXT, description=(
        "Prompt with --flags at the end, e.g. 'a fox --ar 3:2 --v 7 --s 250'"))]

    def operation(self) -> ops.Operation:
        return ops.Imagine(prompt=merge_prompt(self.prompt, {}))


class ImagineArgs(MidjourneyParams, JobArgs):
    prompt: Prompt

    def operation(self) -> ops.Operation:
        return ops.Imagine(prompt=self.text(self.prompt))


class UpscaleArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    type: Annotated[Literal["subtle", "creative"] | None, Field(description="Default subtle")] = None

    def operation(self) -> ops.Operation:
        return ops.Upscale(parent=self.job_id, index=self.image_no, mode=self.type or "subtle")


class VariationArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    type: Annotated[Literal["subtle", "strong"] | None, Field(description="Default subtle")] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Variation(parent=self.job_id, index=self.image_no, strength=self.type or "subtle",
                             prompt=self.remix_prompt or None)


class RerollArgs(JobArgs):
    job_id: Annotated[JobId, Field(description="The finished job to run again")]

    def operation(self) -> ops.Operation:
        return ops.Reroll(parent=self.job_id)


class DescribeArgs(Waits, JobArgs):
    image_url: ImageUrl

    def operation(self) -> ops.Operation:
        return ops.Describe(image_url=self.image_url)


class ShortenArgs(Waits, JobArgs):
    prompt: Annotated[str, Field(max_length=MAX_TEXT, description="The prompt to shorten")]

    def operation(self) -> ops.Operation:
        return ops.Shorten(prompt=self.prompt)


class BlendArgs(JobArgs):
    image_urls: Annotated[list[str], Field(min_length=2, max_length=5, description="2-5 public image URLs")]
    aspect_ratio: Annotated[Literal["2:3", "1:1", "3:2"] | None, Field(description="Output shape (default 1:1)")] = None

    def operation(self) -> ops.Operation:
        return ops.Blend(image_urls=self.image_urls, aspect=self.aspect_ratio or "1:1")


class PanArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    direction: Annotated[Literal["down", "right", "up", "left"], Field(description="Side to extend")]
    scale: Annotated[float | None, Field(ge=1.1, le=3.0, description=(
        "New/old size on that side, 1.1-3.0 (default 1.5)"))] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Pan(parent=self.job_id, index=self.image_no, direction=self.direction, scale=self.scale or 1.5,
                       prompt=self.remix_prompt or None)


class OutpaintArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    scale: Annotated[float | None, Field(ge=1.1, le=2.0, description="Zoom-out factor, 1.1-2.0 (default 1.5)")] = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        return ops.Outpaint(parent=self.job_id, index=self.image_no, scale=self.scale or 1.5,
                            prompt=self.remix_prompt or None)


class InpaintArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    areas: Areas = None
    mask_url: MaskUrl = None
    remix_prompt: RemixPrompt = None

    def operation(self) -> ops.Operation:
        mask = _mask("inpaint", self.areas, self.mask_url, required=True)
        assert mask is not None
        return ops.Inpaint(parent=self.job_id, index=self.image_no, mask=mask, prompt=self.remix_prompt or None)


class RemixArgs(JobArgs):
    job_id: ParentId
    image_no: ImageNo
    remix_prompt: Annotated[str, Field(max_length=MAX_TEXT, description="The new prompt")]
    mode: Annotated[Literal["strong", "subtle"] | None,
        Field(description="How much may change (default strong)")] = None

    def operation(self) -> ops.Operation:
        return ops.Remix(parent=self.job_id, index=self.image_no, prompt=self.remix_prompt, mode=self.mode or "strong")


#: The prompt of edit and upload_paint (what to paint into the empty and masked parts).
PaintPrompt = Annotated[str, Field(max_length=MAX_TEXT, description="What to paint")]


class EditArgs(JobArgs):
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


class UploadPaintArgs(JobArgs):
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


class RetextureArgs(JobArgs):
    image_url: ImageUrl
    remix_prompt: Annotated[str, Field(max_length=MAX_TEXT, description="New materials and textures")]

    def operation(self) -> ops.Operation:
        return ops.Retexture(image_url=self.image_url, prompt=self.remix_prompt)


class RemoveBackgroundArgs(JobArgs):
    image_url: ImageUrl

    def operation(self) -> ops.Operation:
        return ops.RemoveBackground(image_url=self.image_url)


class EnhanceArgs(JobArgs):
    job_id: Annotated[JobId, Field(description="A finished --v 7 --draft job")]
    image_no: ImageNo

    def operation(self) -> ops.Operation:
        return ops.Enhance(parent=self.job_id, index=self.image_no)


_SOURCE = "Give job_id with image_no, or image_url (not both)"


def _source(tool: str, job_id: str | None, image_no: int | None, image_url: str | None) -> None:
    if image_url is not None and (job_id is not None or image_no is not None):
        raise LocalValidationError(f"{tool}: {_SOURCE}.")
    if image_url is None and (job_id is None or image_no is None):
        raise LocalValidationError(f"{tool} needs a source: {_SOURCE.lower()}.")


class EnhanceUpscaleArgs(JobArgs):
    job_id: Annotated[JobId | None, Field(
        description="Finished job whose image to upscale (with image_no)")] = None
    image_no: Annotated[int | None, Field(ge=0, le=3, description="Its image, 0-3")] = None
    image_url: Annotated[str | None, Field(description="Or a public image URL")] = None
    target_resolution: Annotated[Literal["HD", "FHD", "2K", "4K", "6K", "8K", "12K"] | None, Field(description=(
        "Long edge: HD/FHD 1920, 2K 2560 (default), 4K 3840, 6K 6144, 8K 7680, 12K 12288 px"))] = None
    content_type: Annotated[Literal["standard", "photo", "illustration", "text", "low_res"] | None, Field(
        description="Model for the content (default standard)")] = None

    def operation(self) -> ops.Operation:
        _source("enhance_upscale", self.job_id, self.image_no, self.image_url)
        return ops.EnhanceUpscale(parent=self.job_id, index=self.image_no, image_url=self.image_url,
                                  resolution=self.target_resolution or "2K", content=self.content_type or "standard")


class VideoArgs(JobArgs):
    prompt: Annotated[str | None, Field(max_length=MAX_TEXT, description=(
        "Motion prompt; may end with --motion low|high, --loop, --raw, --end <url>, --bs 1|2|4"))] = None
    job_id: Annotated[JobId | None, Field(
        description="Finished job whose image to animate (with image_no)")] = None
    image_no: Annotated[int | None, Field(ge=0, le=3, description="Its image, 0-3")] = None
    image_url: Annotated[str | None, Field(description="Or a public image URL to animate")] = None
    video_type: Annotated[Literal["480p", "720p"] | None,
        Field(description="480p (default) or 720p (costs more)")] = None

    def operation(self) -> ops.Operation:
        _source("video_diffusion", self.job_id, self.image_no, self.image_url)
        return ops.VideoDiffusion(parent=self.job_id, index=self.image_no, image_url=self.image_url,
                                  prompt=self.prompt or None, resolution=self.video_type or "480p")


class ExtendVideoArgs(JobArgs):
    job_id: VideoParentId
    video_no: VideoNo
    prompt: Annotated[str | None, Field(max_length=MAX_TEXT, description=(
        "Optional motion prompt for the added part"))] = None

    def operation(self) -> ops.Operation:
        return ops.ExtendVideo(parent=self.job_id, index=self.video_no, prompt=self.prompt or None)


class VideoUpscaleArgs(JobArgs):
    job_id: VideoParentId
    video_no: VideoNo

    def operation(self) -> ops.Operation:
        return ops.VideoUpscale(parent=self.job_id, index=self.video_no)


class BatchArgs(ToolArgs):
    """Several prompts run as one batch: one price, one confirmation, one budget check."""

    prompts: Annotated[list[Annotated[str, Field(max_length=MAX_TEXT)]], Field(
        min_length=BATCH_PROMPTS[0], max_length=BATCH_PROMPTS[1], description="Prompts, each with its --flags")]

    def operations(self) -> list[ops.Operation]:
        """One imagine per prompt.

        Raises:
            LocalValidationError: naming the prompt (1-based) and its problem.
        """
        made: list[ops.Operation] = []
        for n, prompt in enumerate(self.prompts, 1):
            try:
                made.append(ops.Imagine(prompt=merge_prompt(prompt, {})))
            except ValidationError as exc:
                raise LocalValidationError(f"prompt {n}: {describe(exc)}. Nothing was sent.") from None
            except LegnextError as exc:
                raise LocalValidationError(f"prompt {n}: {exc.message}") from None
        return made


# --- job tools that spend nothing ----------------------------------------------------------------------


class WaitArgs(WaitLimit, Previews):
    job_ids: Annotated[list[JobId], Field(min_length=1, max_length=10, description=(
        "One or more job_ids (up to 10), waited for together"))]


class GetJobArgs(ToolArgs):
    job_id: Annotated[JobId, Field(description="The job to look at")]


class SaveArgs(ToolArgs):
    job_id: Annotated[JobId, Field(description="A completed job whose files to save")]
    folder: Annotated[str | None, Field(max_length=64, description=(
        "Sub-folder of the output directory (a name, not a path)"))] = None


class ListArgs(ToolArgs):
    status: Annotated[Literal["pending", "staged", "processing", "completed", "failed"] | None, Field(
        description="Only jobs in this status")] = None
    task_type: Annotated[str | None, Field(max_length=40, description=(
        "Only this task_type, e.g. diffusion, upscale, video-diffusion"))] = None
    limit: Annotated[int | None, Field(ge=1, le=100, description="How many, newest first (default 20)")] = None


class NoArgs(ToolArgs):
    pass


class EstimateArgs(ToolArgs):
    tool: Annotated[str, Field(max_length=64, description="Name of the paid tool, e.g. generate_and_wait, upscale")]
    # Published as a string (JSON text): an open object would make OpenAI strict mode drop the tool. An
    # object is accepted as well.
    arguments: Annotated[str | dict[str, Any], WithJsonSchema({"type": "string"}), Field(description=(
        "That tool's arguments as JSON, e.g. {\"job_id\": \"...\", \"image_no\": 0}"))]


class UploadArgs(ToolArgs):
    data_base64: Annotated[str, Field(min_length=8, max_length=14_000_000, description="PNG/JPEG/WebP/GIF, base64")]
