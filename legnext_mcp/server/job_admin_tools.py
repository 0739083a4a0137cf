"""Tools about jobs rather than making them: wait, look, list, balance, save files."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent
from pydantic import Field

from legnext_mcp.api import Job, LegnextError
from legnext_mcp.files import atomic_write, write_new
from legnext_mcp.server.job_tools import JobId, Timeout
from legnext_mcp.server.results import (
    JobBatch,
    JobList,
    JobResult,
    JobSummary,
    OutputModel,
    UncertainSummary,
    result_text,
    structured,
)
from legnext_mcp.server.runtime import (
    check_job_id,
    describe_job,
    fetch_output,
    output_urls,
    respond,
    result_content,
    runtime,
    tool_error,
    wait_jobs,
)

Ctx = Context[Any, Any]
_FOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,62}[A-Za-z0-9_-]|[A-Za-z0-9]")
#: Names Windows reserves for devices, whatever the extension.
_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{n}" for n in range(1, 10)), *(f"LPT{n}" for n in range(1, 10))}


async def _load(ctx: Ctx, job_id: str) -> Job:
    rt = runtime(ctx)
    try:
        job = await rt.client.get_job(check_job_id(job_id))
    except LegnextError as exc:
        raise tool_error(exc) from None
    await rt.ledger.record(job)
    return job


async def get_job(ctx: Ctx, job_id: JobId) -> Annotated[CallToolResult, JobResult]:
    """Look at a job now (status, URLs, seed, follow-ups) without waiting. Free."""
    return await respond(runtime(ctx), await _load(ctx, job_id))


async def wait_for_job(
        ctx: Ctx,
        job_ids: Annotated[list[str], Field(min_length=1, max_length=10, description=(
            "One or more job_ids (up to 10), waited for together"))],
        timeout_s: Timeout = None) -> Annotated[CallToolResult, JobBatch]:
    """Wait for jobs to finish (up to the soft deadline; call again if still running). Free."""
    rt = runtime(ctx)
    ids = list(dict.fromkeys(check_job_id(job_id) for job_id in job_ids))
    jobs = [await _load(ctx, job_id) for job_id in ids]
    jobs = await wait_jobs(ctx, jobs, timeout_s)
    results = [await describe_job(rt, job) for job in jobs]
    batch = JobBatch(jobs=results, all_done=all(r.done for r in results))
    content = []
    for result in results:
        content += result_content(result)
    return CallToolResult(content=content, structured_content=structured(batch),
                          is_error=any(r.status == "failed" for r in results))


async def list_jobs(
        ctx: Ctx,
        status: Annotated[Literal["pending", "staged", "processing", "completed", "failed"] | None, Field(
            description="Only jobs in this status")] = None,
        task_type: Annotated[str | None, Field(max_length=40, description=(
            "Only this kind, e.g. diffusion, upscale, video-diffusion"))] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="How many, newest first")] = 20,
) -> Annotated[CallToolResult, JobList]:
    """List jobs this server has submitted or seen (local history, newest first). Free."""
    ledger = runtime(ctx).ledger
    entries = await ledger.recent(status=status, task_type=task_type, limit=limit)
    unsure = [] if status else await ledger.uncertain(task_type=task_type, limit=limit)  # they have no status
    summary = JobList(count=len(entries), jobs=[
        JobSummary(job_id=e.job.job_id, task_type=e.job.task_type, status=e.job.status.value, prompt=e.prompt,
                   parent_job_id=e.parent_job_id, recorded_at=_iso(e.recorded_at))
        for e in entries], uncertain=[
        UncertainSummary(task_type=u.task_type, prompt=u.prompt, reason=u.reason, estimated_points=u.points,
                         recorded_at=_iso(u.recorded_at))
        for u in unsure])
    lines = [f"{s.job_id}  {s.task_type:<17} {s.status:<10} {(s.prompt or '')[:60]}" for s in summary.jobs]
    lines += [f"uncertain ({u.recorded_at}): {u.task_type} {(u.prompt or '')[:60]!r} may have been created without "
              "an id reaching us; check the account's job history before submitting it again"
              for u in summary.uncertain]
    text = "\n".join(lines) if lines else "No jobs recorded yet."
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured(summary))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BalanceResult(OutputModel):
    """Account balance. 1000 points = 1 USD; jobs cost 20-540 points."""

    total_points: int = Field(description="Points available for jobs (credits + points)")
    available_credits: int
    available_points: int
    balance_usd: float
    low_balance_alert: bool


async def get_balance(ctx: Ctx) -> Annotated[CallToolResult, BalanceResult]:
    """Show the account balance in points and USD. Free."""
    try:
        balance = await runtime(ctx).client.balance()
    except LegnextError as exc:
        raise tool_error(exc) from None
    result = BalanceResult(total_points=balance.total_points, available_credits=balance.available_credits,
                           available_points=balance.available_points, balance_usd=balance.balance_usd,
                           low_balance_alert=balance.low_balance_alert)
    text = (f"Balance: {result.total_points} points (${result.balance_usd:.2f}); "
            f"about {result.total_points // 80} image jobs at 80 points.")
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured(result))


def _target_dir(base: Path, folder: str | None) -> Path:
    if folder is None:
        return base
    if not _FOLDER.fullmatch(folder) or ".." in folder or folder.split(".")[0].upper() in _DEVICES:
        raise ToolError(f"folder {folder[:70]!r} is not allowed: use a plain sub-folder name (letters, digits, space, "
                        "'_', '-', '.'; not ending in a dot or space), not a path; files always go inside the output "
                        "directory.")
    target = (base / folder).resolve()
    if not target.is_relative_to(base.resolve()):
        raise ToolError("folder must stay inside the output directory.")
    return target


async def save_images(
        ctx: Ctx, job_id: JobId,
        folder: Annotated[str | None, Field(max_length=64, description=(
            "Optional sub-folder of the output directory (a name, not a path)"))] = None,
) -> Annotated[CallToolResult, JobResult]:
    """Download a finished job's images/videos into the output directory, with a JSON sidecar. Free."""
    rt = runtime(ctx)
    target = _target_dir(rt.settings.output_dir, folder)  # a bad folder costs no request
    job = await _load(ctx, job_id)
    if job.status.value != "completed":
        raise ToolError(f"Job {job.job_id} is {job.status.value}; only completed jobs have files. "
                        f"Call wait_for_job(job_ids=['{job.job_id}']) first.")
    saved: list[str] = []
    for index in range(len(output_urls(job))):
        data, content_type = await fetch_output(rt, job, index)
        ext = {"image/jpeg": "jpg", "image/webp": "webp", "video/mp4": "mp4", "image/tiff": "tiff"}.get(
            content_type, "png")
        path = await anyio.to_thread.run_sync(write_new, target / f"{job.job_id}_{index}.{ext}", data)
        saved.append(str(path))
    result = await describe_job(rt, job, saved_files=saved)
    sidecar = {"job_id": job.job_id, "task_type": job.task_type, "prompt": result.prompt, "seed": result.seed,
               "parent_job_id": result.parent_job_id, "urls": output_urls(job), "grid_url": result.grid_url,
               "files": saved, "created_at": result.created_at, "saved_at": datetime.now(UTC).isoformat()}
    sidecar_path = target / f"{job.job_id}.json"
    await anyio.to_thread.run_sync(atomic_write, sidecar_path, json.dumps(sidecar, indent=2).encode())
    result.saved_files.append(str(sidecar_path))
    return CallToolResult(content=[TextContent(type="text", text=result_text(result))],
                          structured_content=structured(result))
