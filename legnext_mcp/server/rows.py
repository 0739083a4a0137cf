"""The tools as rows: name, arguments, what each runs, group, title, description, hints.

Tools are grouped the way github-mcp-server groups toolsets: each row names its group (LEGNEXT_TOOLSETS), and
only what the dialect can serve is listed. Prices are not written here: a paid tool's description takes its
price from the dialect's own rows when the manifest is built (``build_manifest``), or from the relay's price
table when the server starts (``manifest.description``).

Arguments are validated here, before the SDK sees them, so every problem reaches the model in our words
(``validate_arguments``), and nothing the tool does not take is silently dropped.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ValidationError

from legnext_mcp.core import operations as ops
from legnext_mcp.core.problems import describe, string_options
from legnext_mcp.dialects import DIALECTS
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.server import args as a
from legnext_mcp.server.results import (
    BalanceResult,
    BatchSubmitted,
    CostEstimate,
    JobBatch,
    JobList,
    JobResult,
    UploadedPicture,
)
from legnext_mcp.server.schema import field_order

Group = Literal["core", "edit", "video", "account"]


@dataclass(frozen=True)
class PaidTool:
    """A tool that makes a job (and costs money)."""

    name: str
    args: type[a.JobArgs]
    operation: type[ops.Operation]
    group: Group
    title: str
    #: What it does, in one sentence; the description adds the price.
    summary: str


@dataclass(frozen=True)
class FreeTool:
    """A tool with a handler of its own: about jobs or the account (spends nothing), or ``imagine_batch`` (paid,
    several jobs at one price; its hints say so)."""

    name: str
    args: type[a.ToolArgs]
    output: type[BaseModel]
    group: Group
    title: str
    description: str
    hints: Mapping[str, bool]
    dialects: frozenset[str] = field(default_factory=lambda: frozenset(DIALECTS))


#: Every hint is explicit (a host reads a missing one as the spec's default, which for destructiveHint is true).
#: Paid tools are destructive: the points they spend cannot be given back, and Anthropic's directory review maps
#: "sends external requests" to destructive; save_images is destructive because it writes files (the same review
#: maps file writes there), although it never overwrites one. The reasoning is in docs/tools.md.
PAID_HINTS = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": False, "open_world_hint": True}
READ_HINTS = {"read_only_hint": True, "destructive_hint": False, "idempotent_hint": True, "open_world_hint": True}
WRITE_HINTS = {"read_only_hint": False, "destructive_hint": True, "idempotent_hint": True, "open_world_hint": True}

PAID_TOOLS: tuple[PaidTool, ...] = (
    PaidTool("generate_and_wait", a.GenerateArgs, ops.Imagine, "core", "Generate images and wait",
             "Make 4 images from a prompt and wait for their URLs (one call; a job still running at the soft "
             "deadline comes back with its id)."),
    PaidTool("imagine", a.ImagineArgs, ops.Imagine, "edit", "Imagine (submit, no wait)",
             "Submit a 4-image job and return its job_id at once; get the images with wait_for_job."),
    PaidTool("upscale", a.UpscaleArgs, ops.Upscale, "core", "Upscale an image",
             "Upscale one image of a finished job to a single large image."),
    PaidTool("variation", a.VariationArgs, ops.Variation, "core", "Vary an image",
             "Make 4 variations of one image of a finished job."),
    PaidTool("reroll", a.RerollArgs, ops.Reroll, "edit", "Reroll a job",
             "Run a finished job's prompt again for 4 new images."),
    PaidTool("describe", a.DescribeArgs, ops.Describe, "core", "Describe an image",
             "Write 4 prompts that describe an image (then generate_and_wait with one)."),
    PaidTool("shorten", a.ShortenArgs, ops.Shorten, "edit", "Shorten a prompt",
             "Suggest shorter versions of a long prompt, keeping its key words."),
    PaidTool("blend", a.BlendArgs, ops.Blend, "edit", "Blend images", "Blend 2-5 images into 4 new ones."),
    PaidTool("pan", a.PanArgs, ops.Pan, "edit", "Pan (extend one side)",
             "Extend one image of a finished job in one direction (not v8/v8.1 images)."),
    PaidTool("outpaint", a.OutpaintArgs, ops.Outpaint, "edit", "Outpaint (zoom out)",
             "Zoom out: extend one image of a finished job on all sides (not v8/v8.1 images)."),
    PaidTool("inpaint", a.InpaintArgs, ops.Inpaint, "edit", "Inpaint (repaint regions)",
             "Repaint regions of one image, guided by a prompt. Give areas or mask_url, not both."),
    PaidTool("remix", a.RemixArgs, ops.Remix, "edit", "Remix with a new prompt",
             "Redraw one image of a finished job with a new prompt."),
    PaidTool("edit", a.EditArgs, ops.Edit, "edit", "Edit on a canvas",
             "Place one image on a new canvas and repaint the empty and masked parts from a prompt (areas or "
             "mask_url optional, not both)."),
    PaidTool("upload_paint", a.UploadPaintArgs, ops.UploadPaint, "edit", "Edit an uploaded image",
             "Place your own image on a canvas and repaint masked regions from a prompt. Give areas or mask_url, not "
             "both."),
    PaidTool("retexture", a.RetextureArgs, ops.Retexture, "edit", "Retexture an image",
             "Keep an image's shapes and change its materials and textures per the prompt."),
    PaidTool("remove_background", a.RemoveBackgroundArgs, ops.RemoveBackground, "edit", "Remove background",
             "Cut out an image's subject on a transparent background."),
    PaidTool("enhance", a.EnhanceArgs, ops.Enhance, "edit", "Enhance a draft image",
             "Re-render one image of a --v 7 --draft job at full quality."),
    PaidTool("enhance_upscale", a.EnhanceUpscaleArgs, ops.EnhanceUpscale, "edit", "Topaz upscale (up to 12K)",
             "Topaz upscale of a job's image or an image URL (job_id with image_no, or image_url)."),
    PaidTool("video_diffusion", a.VideoArgs, ops.VideoDiffusion, "video", "Image to video",
             "Animate an image into short videos (job_id with image_no, or image_url)."),
    PaidTool("extend_video", a.ExtendVideoArgs, ops.ExtendVideo, "video", "Extend a video",
             "Add 4 seconds to one video of a video job (at most 4 times)."),
    PaidTool("video_upscale", a.VideoUpscaleArgs, ops.VideoUpscale, "video", "Upscale a video",
             "Upscale one video of a video job to a higher resolution."),
)

FREE_TOOLS: tuple[FreeTool, ...] = (
    FreeTool("wait_for_job", a.WaitArgs, JobBatch, "core", "Wait for jobs",
             "Wait for jobs to finish, up to the soft deadline; call again if still running. Free.", READ_HINTS),
    FreeTool("get_job", a.GetJobArgs, JobResult, "core", "Get a job",
             "Look at a job now (status, URLs, seed, follow-ups) without waiting. Free.", READ_HINTS),
    FreeTool("save_images", a.SaveArgs, JobResult, "core", "Save a job's files",
             "Save a completed job's images or videos (and a JSON sidecar) to the output directory. Free.",
             WRITE_HINTS),
    FreeTool("list_jobs", a.ListArgs, JobList, "account", "List recent jobs",
             "List jobs sent or seen from this machine (newest first), and submissions whose outcome is unknown. "
             "Free.", {**READ_HINTS, "open_world_hint": False}),
    FreeTool("get_balance", a.NoArgs, BalanceResult, "account", "Account balance",
             "Show the account balance (points, credits, USD) and plan. Free.", READ_HINTS,
             dialects=frozenset({"legnext"})),
    FreeTool("imagine_batch", a.BatchArgs, BatchSubmitted, "edit", "Imagine a batch of prompts",
             "2-10 prompts at one price (imagine's each), one confirmation, one budget check; returns each job_id "
             "(failures named).", PAID_HINTS),
    FreeTool("upload_picture", a.UploadArgs, UploadedPicture, "edit", "Use a picture from the chat",
             "Keep a picture (base64) a day; returns its image_url. Free.",
             {**READ_HINTS, "read_only_hint": False, "idempotent_hint": False, "open_world_hint": False}),
    FreeTool("estimate_cost", a.EstimateArgs, CostEstimate, "core", "Estimate cost (sends nothing)",
             "Check and price a paid tool call without sending it (the tool's own checks: flags, parent job, "
             "budget). Free.", READ_HINTS),
)
BY_NAME: dict[str, PaidTool | FreeTool] = {**{s.name: s for s in PAID_TOOLS}, **{s.name: s for s in FREE_TOOLS}}
PAID_BY_NAME: dict[str, PaidTool] = {spec.name: spec for spec in PAID_TOOLS}
#: The tool that runs each operation on its own (imagine, not generate_and_wait, which also waits).
TOOL_OF: dict[type[ops.Operation], str] = {spec.operation: spec.name for spec in PAID_TOOLS}


def paid_tool(name: str, dialect: Dialect[Any]) -> PaidTool:
    """The paid tool called ``name`` that this dialect serves.

    Raises:
        ToolError: not a paid tool, or one this API cannot run (saying why).
    """
    spec = PAID_BY_NAME.get(name)
    if spec is None:
        served = ", ".join(p.name for p in PAID_TOOLS if dialect.supports(p.operation))
        raise ToolError(f"{name[:64]!r} is not a job tool; use one of: {served}.")
    if not dialect.supports(spec.operation):
        raise ToolError(f"{name} is not available on {dialect.service}: {dialect.unsupported_reason(spec.operation)}.")
    return spec


# --- arguments in our words ------------------------------------------------------------------------------


def unknown_arguments(tool: str, unknown: list[str], known: list[str], *, waits: bool = False) -> str:
    """The message for arguments a tool does not have, with the likely intended names; ``waits``: the tool
    waits for its job itself (generate_and_wait, describe, shorten)."""
    parts = []
    for key in unknown[:5]:
        close = difflib.get_close_matches(key.lower().replace("-", "_"), known, n=1, cutoff=0.6)
        parts.append(f"{key[:40]!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    waiting = {"wait", "timeout_s", "include_preview"} & set(unknown) - set(known)
    if not waiting:
        hint = ""
    elif waits:
        hint = (f" {tool} waits for its result itself (up to the soft deadline); when it hands back a job still "
                "running, wait_for_job(job_ids=[...]) waits for the rest.")
    else:
        hint = (f" {tool} submits and returns the job_id at once; wait for the result with wait_for_job (it takes "
                "timeout_s and include_preview).")
    return (f"{tool} has no argument {', '.join(parts)}. Nothing was sent. Its arguments are: "
            f"{', '.join(known) or 'none'}.{hint}")


def coerce(model: type[a.ToolArgs], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as sent, with numbers given for a string option taken as that option (``version: 7`` is
    ``"7"``, ``quality: 0.5`` is ``"0.5"``)."""
    out = dict(raw)
    for name, value in raw.items():
        info = model.model_fields.get(name)
        if info is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if text in string_options(info.annotation):
            out[name] = text
    return out


def validate_arguments(spec: PaidTool | FreeTool, raw: Mapping[str, Any]) -> a.ToolArgs:
    """The tool's arguments, validated, or a ToolError that names each argument and what it accepts.

    Raises:
        ToolError: unknown arguments (with the likely intended name) or invalid values. Nothing was sent.
    """
    model = spec.args
    unknown = [key for key in raw if key not in model.model_fields]
    if unknown:
        raise ToolError(unknown_arguments(spec.name, unknown, field_order(model), waits=issubclass(model, a.Waits)))
    try:
        return model.model_validate(coerce(model, raw))
    except ValidationError as exc:
        raise ToolError(f"Invalid {spec.name} arguments: {describe(exc, model)}. Nothing was sent.") from None
