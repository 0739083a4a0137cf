"""What every tool shares: the runtime (settings, client, ledger), submitting, waiting with progress and
a soft deadline, files on disk, and turning a job into a tool result."""

from __future__ import annotations

import base64
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent

from legnext_mcp.api import (
    Job,
    JobFailedError,
    JobRequest,
    LegnextClient,
    LegnextError,
    SubmissionUncertainError,
    WaitTimeoutError,
)
from legnext_mcp.files import atomic_write
from legnext_mcp.ledger import Ledger
from legnext_mcp.server.results import JobResult, job_result, result_text, structured
from legnext_mcp.settings import Settings

log = logging.getLogger("legnext_mcp.server")

#: Progress notifications go out at least this often (real seconds) while a tool waits.
PROGRESS_EVERY_S = 5.0
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


@dataclass
class Runtime:
    """Owned by the server's lifespan: one client, one ledger, the settings."""

    settings: Settings
    client: LegnextClient
    ledger: Ledger


@dataclass
class RuntimeRef:
    """The running server's runtime, for handlers that get no request context (completion)."""

    current: Runtime | None = None


def runtime(ctx: Context[Any, Any]) -> Runtime:
    state = ctx.request_context.lifespan_context
    assert isinstance(state, Runtime)
    return state


def check_job_id(job_id: str) -> str:
    """Job ids become paths and URIs: letters, digits, '-' and '_' only."""
    if not _SAFE_ID.fullmatch(job_id):  # fullmatch: '$' would let a trailing newline through
        raise ToolError(f"{job_id[:80]!r} is not a job id; use the job_id from an earlier result or list_jobs.")
    return job_id


def tool_error(exc: LegnextError) -> ToolError:
    return ToolError(exc.message)


# --- results ------------------------------------------------------------------------------------------


async def describe_job(rt: Runtime, job: Job, *, saved_files: list[str] | None = None) -> JobResult:
    entry = await rt.ledger.get(job.job_id)
    return job_result(job, prompt=entry.prompt if entry else None,
                      parent_job_id=entry.parent_job_id if entry else None, saved_files=saved_files)


def result_content(result: JobResult) -> list[ContentBlock]:
    blocks: list[ContentBlock] = [TextContent(type="text", text=result_text(result))]
    blocks.append(ResourceLink(type="resource_link", uri=f"legnext://jobs/{result.job_id}",
                               name=f"job {result.job_id}", mime_type="application/json"))
    for n in range(len(result.image_urls)):
        blocks.append(ResourceLink(type="resource_link", uri=f"legnext://jobs/{result.job_id}/images/{n}",
                                   name=f"image {n} of job {result.job_id}", mime_type="image/png"))
    return blocks


async def respond(rt: Runtime, job: Job, *, include_preview: bool = False,
                  saved_files: list[str] | None = None, estimated_points: int | None = None,
                  notes: Sequence[str] = ()) -> CallToolResult:
    """A tool result for a job: text, resource links, optional preview and the JobResult structure.

    A failed job is an error result that still carries its structure (reason, nothing consumed).
    """
    result = await describe_job(rt, job, saved_files=saved_files)
    result.estimated_points = estimated_points
    result.notes = list(notes)
    content = result_content(result)
    if include_preview and (result.grid_url or result.image_urls):
        preview = await make_preview(rt, job)
        if preview is not None:
            content.append(preview)
    return CallToolResult(content=content, structured_content=structured(result),
                          is_error=result.status == "failed")


# --- submitting and waiting ---------------------------------------------------------------------------


async def submit(ctx: Context[Any, Any], request: JobRequest, *, wait: bool, timeout_s: float | None,
                 include_preview: bool, estimated_points: int | None = None,
                 notes: Sequence[str] = ()) -> CallToolResult:
    """Submit a checked request once, record the job, optionally wait, and answer."""
    rt = runtime(ctx)
    try:
        job = await rt.client.submit(request)
    except SubmissionUncertainError as exc:
        # The job may exist and cost points, but its id is unknown: keep the request, never re-send it.
        note = " The request is kept in the local history (list_jobs shows it under 'uncertain')."
        try:
            await rt.ledger.record_uncertain(request, exc.message, estimated_points or 0)
        except Exception:  # the message above matters more than the record
            log.exception("could not record an uncertain %s submission", request.task_type)
            note = ""
        raise ToolError(exc.message + note) from None
    except LegnextError as exc:
        raise tool_error(exc) from None
    try:
        await rt.ledger.record(job, request)  # before anything else can fail: nothing is lost
    except Exception:  # the job exists and is paid for: never answer without its id
        log.exception("could not record job %s in the ledger", job.job_id)
        raise ToolError(f"Job {job.job_id} was submitted ({job.task_type}) but could not be written to the local "
                        f"history; keep this id and use get_job/wait_for_job with it.") from None
    log.info("recorded %s job %s", request.task_type, job.job_id)
    if wait:
        job = (await wait_jobs(ctx, [job], timeout_s))[0]
    return await respond(rt, job, include_preview=include_preview and job.is_terminal,
                         estimated_points=estimated_points, notes=notes)


async def wait_jobs(ctx: Context[Any, Any], jobs: list[Job], timeout_s: float | None) -> list[Job]:
    """Wait for jobs concurrently until done or the soft deadline; report progress meanwhile.

    Jobs still running at the deadline come back as they are (the caller hands them back as pending);
    failed jobs come back failed. Every snapshot is written to the ledger. Cancelling the tool call
    stops every poll at once.
    """
    rt = runtime(ctx)
    limit = min(timeout_s or rt.settings.soft_deadline_s, rt.settings.soft_deadline_s)
    latest = {job.job_id: job for job in jobs}
    start = time.monotonic()
    problems: list[LegnextError] = []

    async def report() -> None:
        elapsed = time.monotonic() - start
        states = ", ".join(f"{j.job_id}: {j.status.value}" for j in latest.values())
        await ctx.report_progress(min(elapsed, limit), limit, f"{elapsed:.0f}s elapsed; {states}")

    async def on_poll(job: Job) -> None:
        latest[job.job_id] = job
        await rt.ledger.record(job)
        await report()

    async def one(job: Job) -> None:
        entry = await rt.ledger.get(job.job_id)
        try:
            latest[job.job_id] = await rt.client.wait(job.job_id, timeout=limit, on_poll=on_poll, known=job,
                                                      prompt=entry.prompt if entry else None)
        except WaitTimeoutError as exc:
            if exc.last is not None:
                latest[job.job_id] = exc.last
        except JobFailedError as exc:
            latest[job.job_id] = exc.job
        except LegnextError as exc:
            problems.append(exc)
        await rt.ledger.record(latest[job.job_id])

    async def ticker() -> None:
        while True:
            await report()
            await anyio.sleep(PROGRESS_EVERY_S)

    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker)
        async with anyio.create_task_group() as waits:
            for job in jobs:
                waits.start_soon(one, job)
        outer.cancel_scope.cancel()
    if problems and len(problems) == len(jobs):
        raise ToolError(problems[0].message + " The job keeps running; call wait_for_job later.")
    return [latest[job.job_id] for job in jobs]


# --- files --------------------------------------------------------------------------------------------

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif",
               "image/tiff": "tiff", "video/mp4": "mp4"}


def output_urls(job: Job) -> list[str]:
    """Every output file of a job: the images (or the single image) and the videos, grid excluded."""
    out = job.output
    if out.video_urls:
        return list(out.video_urls)
    if out.image_urls:
        return list(out.image_urls)
    return [out.image_url] if out.image_url else []


async def fetch_output(rt: Runtime, job: Job, index: int | str) -> tuple[bytes, str]:
    """Bytes and content type of output ``index`` (or "grid"), from the disk cache or downloaded once."""
    if index == "grid":
        url = job.output.image_url
    else:
        urls = output_urls(job)
        url = urls[int(index)] if isinstance(index, int) and 0 <= index < len(urls) else None
    if not url:
        raise ToolError(f"Job {job.job_id} has no output {index}; it has {len(output_urls(job))} files.")
    cache = rt.settings.cache_dir
    for ext, mime in (("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp"), ("mp4", "video/mp4")):
        cached = cache / f"{job.job_id}_{index}.{ext}"
        if await anyio.Path(cached).exists():
            return await anyio.Path(cached).read_bytes(), mime
    try:
        download = await rt.client.download(url, max_bytes=rt.settings.download_max_bytes)
    except LegnextError as exc:
        raise tool_error(exc) from None
    ext = _EXTENSIONS.get(download.content_type, "bin")
    await anyio.to_thread.run_sync(atomic_write, cache / f"{job.job_id}_{index}.{ext}", download.content)
    return download.content, download.content_type


async def make_preview(rt: Runtime, job: Job) -> ImageContent | None:
    """A JPEG of the grid (or first image) shrunk under the preview byte budget, or None if impossible."""
    index: int | str = "grid" if job.output.image_url and job.output.image_urls else 0
    try:
        data, _ = await fetch_output(rt, job, index)
    except ToolError:
        return None
    from legnext_mcp.server.preview import shrink

    small = await anyio.to_thread.run_sync(shrink, data, rt.settings.preview_max_bytes)
    if small is None:
        return None
    return ImageContent(type="image", data=base64.b64encode(small).decode(), mime_type="image/jpeg")
