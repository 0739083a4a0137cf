"""The tool catalog: every tool as a row (name, arguments, what it runs, group, title, description), and
the ``Tool`` objects built from it once per process for the dialect in use.

Tools are registered the way github-mcp-server registers toolsets: each row names its group
(LEGNEXT_TOOLSETS), and only what the dialect can serve is listed. Arguments are validated here, before
the SDK sees them, so every problem reaches the model in our words (``validate_arguments``).
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal, get_args, get_origin

from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import build_resolver_plans, find_resolved_parameters
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ValidationError

from legnext_mcp.core import operations as ops
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.server import args as a
from legnext_mcp.server import tools as t
from legnext_mcp.server.listing import CatalogKey, description, listed
from legnext_mcp.server.results import JobBatch, JobList, JobResult
from legnext_mcp.server.schema import input_schema, output_schema, schema_key

Handler = Callable[..., Awaitable[CallToolResult]]
Group = Literal["core", "edit", "video", "account"]


@dataclass(frozen=True)
class PaidTool:
    """A tool that makes a job (and costs money)."""

    name: str
    args: type[a.JobArgs]
    operation: type[ops.Operation]
    group: Group
    title: str
    summary: str
    #: The price as Legnext documents it (relays have their own; see ``description``).
    legnext_price: str


@dataclass(frozen=True)
class FreeTool:
    """A tool about jobs or the account; it spends nothing."""

    name: str
    args: type[a.ToolArgs]
    handler: Handler
    output: type[BaseModel]
    group: Group
    title: str
    description: str
    hints: Mapping[str, bool]
    dialects: frozenset[str] = field(default_factory=lambda: frozenset({"legnext", "mj-proxy"}))


PAID_HINTS = {"read_only_hint": False, "destructive_hint": False, "idempotent_hint": False, "open_world_hint": True}
READ_HINTS = {"read_only_hint": True, "destructive_hint": False, "idempotent_hint": True, "open_world_hint": True}

PAID_TOOLS: tuple[PaidTool, ...] = (
    PaidTool("generate_and_wait", a.GenerateArgs, ops.Imagine, "core", "Generate images and wait",
             "Make 4 images from a prompt and wait for their URLs (one call; a job still running at the soft "
             "deadline comes back with its id).", "80 points; turbo or --oref 2x, v8 --hd/--q 4 4x"),
    PaidTool("imagine", a.ImagineArgs, ops.Imagine, "edit", "Imagine (submit, no wait)",
             "Submit a 4-image job and return its job_id at once; get the images with wait_for_job.",
             "80 points; turbo or --oref 2x, v8 --hd/--q 4 4x"),
    PaidTool("upscale", a.UpscaleArgs, ops.Upscale, "core", "Upscale an image",
             "Upscale one image of a finished job to a single large image.", "120 points"),
    PaidTool("variation", a.VariationArgs, ops.Variation, "core", "Vary an image",
             "Make 4 variations of one image of a finished job.", "120 points"),
    PaidTool("reroll", a.RerollArgs, ops.Reroll, "edit", "Reroll a job",
             "Run a finished job's prompt again for 4 new images.", "Costs what the job cost"),
    PaidTool("describe", a.DescribeArgs, ops.Describe, "core", "Describe an image",
             "Write 4 prompts that describe an image (then generate_and_wait with one).", "20 points"),
    PaidTool("shorten", a.ShortenArgs, ops.Shorten, "edit", "Shorten a prompt",
             "Suggest shorter versions of a long prompt, keeping its key words.", "20 points"),
    PaidTool("blend", a.BlendArgs, ops.Blend, "edit", "Blend images", "Blend 2-5 images into 4 new ones.",
             "80 points"),
    PaidTool("pan", a.PanArgs, ops.Pan, "edit", "Pan (extend one side)",
             "Extend one image of a finished job in one direction (not v8/v8.1 images).", "80 points"),
    PaidTool("outpaint", a.OutpaintArgs, ops.Outpaint, "edit", "Outpaint (zoom out)",
             "Zoom out: extend one image of a finished job on all sides (not v8/v8.1 images).", "80 points"),
    PaidTool("inpaint", a.InpaintArgs, ops.Inpaint, "edit", "Inpaint (repaint regions)",
             "Repaint regions of one image, guided by a prompt. Give areas or mask_url, not both.", "120 points"),
    PaidTool("remix", a.RemixArgs, ops.Remix, "edit", "Remix with a new prompt",
             "Redraw one image of a finished job with a new prompt.", "120 points"),
    PaidTool("edit", a.EditArgs, ops.Edit, "edit", "Edit on a canvas",
             "Place one image on a new canvas and repaint the empty and masked parts from a prompt (areas or "
             "mask_url optional, not both).", "120 points"),
    PaidTool("upload_paint", a.UploadPaintArgs, ops.UploadPaint, "edit", "Edit an uploaded image",
             "Place your own image on a canvas and repaint masked regions from a prompt. Give areas or mask_url, not "
             "both.", "120 points"),
    PaidTool("retexture", a.RetextureArgs, ops.Retexture, "edit", "Retexture an image",
             "Keep an image's shapes and change its materials and textures per the prompt.", "120 points"),
    PaidTool("remove_background", a.RemoveBackgroundArgs, ops.RemoveBackground, "edit", "Remove background",
             "Cut out an image's subject on a transparent background.", "80 points"),
    PaidTool("enhance", a.EnhanceArgs, ops.Enhance, "edit", "Enhance a draft image",
             "Re-render one image of a --v 7 --draft job at full quality.", "80 points"),
    PaidTool("enhance_upscale", a.EnhanceUpscaleArgs, ops.EnhanceUpscale, "edit", "Topaz upscale (up to 12K)",
             "Topaz upscale of a job's image or an image URL (job_id with image_no, or image_url).",
             "120 points (HD-2K), 160 (4K), 200 (6K), 300 (8K), 540 (12K)"),
    PaidTool("video_diffusion", a.VideoArgs, ops.Video, "video", "Image to video",
             "Animate an image into short videos (job_id with image_no, or image_url).",
             "480 points for 4 videos (--bs 1|2|4 scales it); 720p assumed 2x"),
    PaidTool("extend_video", a.ExtendVideoArgs, ops.ExtendVideo, "video", "Extend a video",
             "Add 4 seconds to one video of a video job (at most 4 times).", "480 points"),
    PaidTool("video_upscale", a.VideoUpscaleArgs, ops.VideoUpscale, "video", "Upscale a video",
             "Upscale one video of a video job to a higher resolution.", "480 points"),
)

FREE_TOOLS: tuple[FreeTool, ...] = (
    FreeTool("wait_for_job", a.WaitArgs, t.wait_for_job, JobBatch, "core", "Wait for jobs",
             "Wait for jobs to finish, up to the soft deadline; call again if still running. Free.", READ_HINTS),
    FreeTool("get_job", a.GetJobArgs, t.get_job, JobResult, "core", "Get a job",
             "Look at a job now (status, URLs, seed, follow-ups) without waiting. Free.", READ_HINTS),
    FreeTool("save_images", a.SaveArgs, t.save_images, JobResult, "core", "Save a job's files",
             "Save a completed job's images or videos (and a JSON sidecar) to the output directory. Free.",
             {**READ_HINTS, "read_only_hint": False}),
    FreeTool("list_jobs", a.ListArgs, t.list_jobs, JobList, "account", "List recent jobs",
             "List jobs sent or seen from this machine (newest first), and submissions whose outcome is unknown. "
             "Free.", {**READ_HINTS, "open_world_hint": False}),
    FreeTool("get_balance", a.NoArgs, t.get_balance, t.BalanceResult, "account", "Account balance",
             "Show the account balance (points, credits, USD) and plan. Free.", READ_HINTS,
             dialects=frozenset({"legnext"})),
    FreeTool("estimate_cost", a.EstimateArgs, t.estimate_cost, t.CostEstimate, "core", "Estimate cost (sends nothing)",
             "Check and price a paid tool call without sending it (the tool's own checks: flags, parent job, "
             "budget). Free.", READ_HINTS),
)
BY_NAME: dict[str, PaidTool | FreeTool] = {**{s.name: s for s in PAID_TOOLS}, **{s.name: s for s in FREE_TOOLS}}
PAID_BY_NAME: dict[str, PaidTool] = {spec.name: spec for spec in PAID_TOOLS}


def _tool(name: str, args: type[a.ToolArgs], handler: Handler, output: type[BaseModel], title: str,
          description: str, hints: Mapping[str, bool]) -> Tool:
    """A ``Tool`` whose function receives its validated arguments whole (``ToolArgs.model_dump_one_level``)."""
    resolved = find_resolved_parameters(handler)
    return Tool(fn=handler, name=name, title=title, description=description, parameters=input_schema(args),
                fn_metadata=FuncMetadata(arg_model=args, output_schema=output_schema(output)), is_async=True,
                context_kwarg="ctx", resolved_params=resolved, resolver_plans=build_resolver_plans(resolved, {"call"}),
                annotations=ToolAnnotations(title=title, **hints))


@cache
def manifest_rows() -> list[dict[str, Any]]:
    """The rows as data: what ``listing`` answers tools/list from (written to catalog.json at build time)."""
    rows: list[dict[str, Any]] = []
    for paid in PAID_TOOLS:
        rows.append({"kind": "paid", "name": paid.name, "operation": paid.operation.__name__, "group": paid.group,
                     "title": paid.title, "summary": paid.summary, "legnext_price": paid.legnext_price,
                     "hints": PAID_HINTS, "input": schema_key("input", paid.args),
                     "output": schema_key("output", JobResult)})
    for free in FREE_TOOLS:
        rows.append({"kind": "free", "name": free.name, "group": free.group, "title": free.title,
                     "description": free.description, "hints": dict(free.hints), "dialects": sorted(free.dialects),
                     "input": schema_key("input", free.args), "output": schema_key("output", free.output)})
    return rows


@cache
def catalog(key: CatalogKey) -> dict[str, Tool]:
    """The tools for ``key`` by name, built once per process on the first tools/call (tools/list is answered
    from the rows without them: ``listing``)."""
    tools: dict[str, Tool] = {}
    for row in manifest_rows():
        if not listed(row, key):
            continue
        spec = BY_NAME[row["name"]]
        if isinstance(spec, PaidTool):
            tools[spec.name] = _tool(spec.name, spec.args, t.run_job, JobResult, spec.title, description(row, key),
                                     PAID_HINTS)
        else:
            tools[spec.name] = _tool(spec.name, spec.args, spec.handler, spec.output, spec.title, spec.description,
                                     spec.hints)
    return tools


def paid_tool(name: str, dialect: Dialect) -> PaidTool:
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


def unknown_arguments(tool: str, unknown: list[str], known: list[str]) -> str:
    """The message for arguments a tool does not have, with the likely intended names."""
    parts = []
    for key in unknown[:5]:
        close = difflib.get_close_matches(key.lower().replace("-", "_"), known, n=1, cutoff=0.6)
        parts.append(f"{key[:40]!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    waiting = {"wait", "timeout_s", "include_preview"} & set(unknown) - set(known)
    hint = (f" {tool} submits and returns the job_id at once; wait for the result with wait_for_job (it takes "
            "timeout_s and include_preview)." if waiting else "")
    return (f"{tool} has no argument {', '.join(parts)}. Nothing was sent. Its arguments are: "
            f"{', '.join(known) or 'none'}.{hint}")


def _string_options(annotation: Any) -> tuple[str, ...]:
    """The string values of a ``Literal[...]`` (possibly ``| None``) annotation."""
    if get_origin(annotation) is Literal:
        return tuple(v for v in get_args(annotation) if isinstance(v, str))
    return tuple(v for arg in get_args(annotation) for v in _string_options(arg))


def coerce(model: type[a.ToolArgs], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as sent, with numbers given for a string option taken as that option (``version: 7`` is
    ``"7"``, ``quality: 0.5`` is ``"0.5"``)."""
    out = dict(raw)
    for name, value in raw.items():
        info = model.model_fields.get(name)
        if info is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        options = _string_options(info.annotation)
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if text in options:
            out[name] = text
    return out


def _explain(model: type[a.ToolArgs], problem: Any) -> str:
    """One problem: the argument, what is wrong and what is allowed."""
    location = [str(p) for p in problem["loc"]]
    name = location[0] if location else "arguments"
    where = ".".join(location) or "arguments"
    kind, ctx = problem["type"], problem.get("ctx") or {}
    got = problem.get("input")
    shown = "" if isinstance(got, dict | list) or got is None or kind == "missing" else f" (got {repr(got)[:60]})"
    info = model.model_fields.get(name)
    schema = input_schema(model)["properties"].get(name, {}) if info is not None else {}
    if len(location) == 1:
        branch = next((o for o in schema.get("anyOf", []) if o.get("type") != "null"), schema)
        low, high = branch.get("minimum"), branch.get("maximum")
        options = branch.get("enum")
    else:
        low = high = options = None
    if kind == "missing":
        text = "is required"
    elif kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than") and low is not None \
            and high is not None:
        text = f"must be between {low} and {high}"
    elif kind in ("less_than_equal", "less_than"):
        text = f"must be at most {ctx.get('le', ctx.get('lt'))}"
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    elif kind == "literal_error" or (options and kind.endswith("_type")):
        text = f"must be one of: {', '.join(map(str, options or ctx.get('expected', '').split(' or ')))}"
    elif kind == "string_too_long":
        text = f"must be at most {ctx.get('max_length')} characters"
    elif kind == "string_too_short":
        text = f"must be at least {ctx.get('min_length')} character(s)"
    elif kind == "too_long":
        text = f"must have at most {ctx.get('max_length')} items"
    elif kind == "too_short":
        text = f"must have at least {ctx.get('min_length')} items"
    elif kind == "string_pattern_mismatch":
        text = "must be width:height in whole numbers, like 16:9" if name == "aspect_ratio" else "has the wrong form"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        text = "must be a whole number"
    elif kind in ("float_type", "float_parsing"):
        text = "must be a number"
    elif kind in ("bool_type", "bool_parsing"):
        text = "must be true or false"
    elif kind in ("string_type",):
        text = "must be text"
    elif kind in ("list_type",):
        text = "must be a list"
    elif kind in ("model_type", "dict_type", "model_attributes_type"):
        text = "must be an object"
    else:
        text = str(problem["msg"]).removeprefix("Value error, ")
    return f"{where}: {text}{shown}"


def validate_arguments(spec: PaidTool | FreeTool, raw: Mapping[str, Any]) -> a.ToolArgs:
    """The tool's arguments, validated, or a ToolError that names each argument and what it accepts.

    Raises:
        ToolError: unknown arguments (with the likely intended name) or invalid values. Nothing was sent.
    """
    model = spec.args
    known = list(input_schema(model)["properties"])
    unknown = [key for key in raw if key not in model.model_fields]
    if unknown:
        raise ToolError(unknown_arguments(spec.name, unknown, known))
    try:
        return model.model_validate(coerce(model, raw))
    except ValidationError as exc:
        problems = "; ".join(_explain(model, p) for p in exc.errors(include_url=False))
        raise ToolError(f"Invalid {spec.name} arguments: {problems}. Nothing was sent.") from None
