"""The tool functions: thin adapters from MCP calls to the service layer.

Every paid tool runs the same three steps, as resolvers so that they work in both protocol eras:
``priced`` (every check before spending, the price, the budget), ``approve`` (ask the user above
LEGNEXT_CONFIRM_ABOVE_POINTS, through elicitation) and ``run_job`` (send once, record, optionally wait,
answer). Resolvers run before the tool body, so a job is sent only after it was checked, priced and,
when asked, approved; and only once. Once a job exists, every way the call can end names its id.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.resolve import Elicit, Resolve
from mcp_types import CallToolResult, ContentBlock, ImageContent, ResourceLink, TextContent
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic import BaseModel, Field, ValidationError

from legnext_mcp.core import policy
from legnext_mcp.core.errors import (
    LedgerError,
    LegnextError,
    LocalValidationError,
    NotConfirmedError,
    SubmissionUncertainError,
)
from legnext_mcp.core.ids import check_job_id
from legnext_mcp.core.job import Job
from legnext_mcp.core.operations import Imagine
from legnext_mcp.core.problems import describe
from legnext_mcp.core.text import printable
from legnext_mcp.server import args as a
from legnext_mcp.server.results import (
    BalanceResult,
    BatchItem,
    BatchSubmitted,
    CostEstimate,
    JobBatch,
    JobList,
    JobResult,
    JobSummary,
    Listed,
    UnresolvedSummary,
    UploadedPicture,
    iso,
    job_result,
    next_steps,
    result_text,
)
from legnext_mcp.server.rows import BY_NAME, paid_tool, validate_arguments
from legnext_mcp.server.session import Session
from legnext_mcp.service import jobs as service
from legnext_mcp.service.caller import caller, unknown_job, user_folder
from legnext_mcp.service.inputs import keep_upload
from legnext_mcp.service.outputs import check_folder
from legnext_mcp.service.quote import BatchQuote, Quote, quote, quote_batch
from legnext_mcp.service.runtime import Services
from legnext_mcp.settings import Settings

log = logging.getLogger("legnext_mcp.server")

Ctx = Context[Session, Any]
#: Progress notifications go out at least this often (real seconds) while a tool waits.
PROGRESS_EVERY_S = 5.0

#: Hints the MCP layer adds to the service layer's messages, by error code.
_HINTS = {
    "submission_uncertain": " The request is kept in the local history (list_jobs shows it under 'uncertain').",
    "unrecorded": " Use get_job or wait_for_job with it.",
}


@dataclass(frozen=True)
class Warm:
    """A session's state once its first call needed it: the services, and which tools this server lists."""

    services: Services
    listed: Listed


def warm(ctx: Ctx) -> Warm:
    """The warm state of the session serving ``ctx`` (the front makes it before any handler runs)."""
    session = ctx.request_context.lifespan_context
    assert isinstance(session, Session) and isinstance(session.warm, Warm), "the back opens the session first"
    return session.warm


def services(ctx: Ctx) -> Services:
    return warm(ctx).services


def tool_error(exc: LegnextError) -> ToolError:
    """The model-facing error for anything the service layer raised."""
    return ToolError(exc.message + _HINTS.get(exc.code, ""))


def after_sending(job_ids: list[str], what: str, exc: BaseException) -> ToolError:
    """The error for a call that failed after its jobs existed: their ids first, then what happened, so no job
    is ever lost behind a bare error (the SDK would say only "Error executing tool")."""
    reason = exc.message if isinstance(exc, LegnextError) else f"an unexpected {type(exc).__name__} ({exc})"
    ids = ", ".join(job_ids)
    log.error("%s failed after job(s) %s existed: %s", what, ids, reason,
              exc_info=None if isinstance(exc, LegnextError) else exc)  # a bug of ours: keep its traceback
    return ToolError(f"Job(s) {ids} exist (submitted and recorded); {what} failed: {reason[:500]} They keep running; "
                     f"call wait_for_job(job_ids={job_ids!r}) or get_job for their results.")


# --- results ---------------------------------------------------------------------------------------------


async def describe_job(ctx: Ctx, job: Job, *, saved_files: list[str] | None = None, estimated: int | None = None,
                       notes: list[str] | None = None) -> JobResult:
    state = warm(ctx)
    svc = state.services
    notes = list(notes or [])
    try:
        entry = await svc.ledger.get(svc.dialect.name, job.job_id, user=caller().reads)
    except LedgerError as exc:
        entry = None
        notes.append(f"The local history could not be read ({exc.message}).")
    steps = next_steps(job, svc.dialect.follow_ups(job), state.listed)
    return job_result(job, steps=steps, prompt=entry.prompt if entry else None,
                      parent_job_id=entry.parent_job_id if entry else None, unit=svc.dialect.unit,
                      saved_files=saved_files,
                      estimated_points=estimated if estimated is not None else (entry.estimate if entry else None),
                      notes=notes)


def result_content(svc: Services, result: JobResult) -> list[ContentBlock]:
    """The text of a result, and resource links when LEGNEXT_RESOURCE_LINKS asks for them (off by default:
    several clients break on them; the URIs are in the structured result either way)."""
    blocks: list[ContentBlock] = [TextContent(type="text", text=result_text(result))]
    if svc.settings.resource_links:
        blocks.append(ResourceLink(type="resource_link", uri=f"legnext://jobs/{result.job_id}",
                                   name=f"job {result.job_id}", mime_type="application/json"))
        blocks += [ResourceLink(type="resource_link", uri=uri, name=f"image {n} of job {result.job_id}",
                                mime_type="image/png") for n, uri in enumerate(result.images)]
    return blocks


async def respond(ctx: Ctx, job: Job, *, include_preview: bool = False, estimated: int | None = None,
                  notes: list[str] | None = None, saved_files: list[str] | None = None) -> CallToolResult:
    """A tool result for a job: text, structure, optional preview. A failed job is an error result that still
    carries its structure (the reason; nothing charged)."""
    svc = services(ctx)
    result = await describe_job(ctx, job, saved_files=saved_files, estimated=estimated, notes=notes)
    content = result_content(svc, result) + (await preview(svc, job) if include_preview else [])
    return CallToolResult(content=content, structured_content=result.structured(),
                          is_error=job.status.value == "failed")


async def preview(svc: Services, job: Job) -> list[ContentBlock]:
    """A small JPEG of a finished job's images, as an image block (none when there is nothing to show)."""
    if not (job.is_terminal and (job.grid_url or job.image_count)):
        return []
    small = await svc.outputs.preview(job)
    if small is None:
        return []
    return [ImageContent(type="image", data=base64.b64encode(small).decode(), mime_type="image/jpeg")]


# --- waiting with progress -------------------------------------------------------------------------------


async def wait_with_progress(ctx: Ctx, jobs: list[Job], timeout_s: float | None) -> service.Waited:
    """Wait up to the soft deadline, telling the client how far along the jobs are (progress is a percent).

    A notification goes out when something changed (a status, a whole percent), and a keep-alive only when
    nothing was sent for PROGRESS_EVERY_S (hosts that reset their time limit on progress need one); none once
    the wait is decided, so none can arrive after the result. The percent of a job never goes back, across calls
    too (``Poller.percent``).
    """
    svc = services(ctx)
    limit = min(timeout_s or svc.settings.soft_deadline_s, svc.settings.soft_deadline_s)
    latest = list(jobs)
    start = time.monotonic()
    finished = anyio.Event()
    sent: list[tuple[int, str]] = []  # what the last notification said
    last_sent = [start]

    async def report(*, keep_alive: bool = False) -> None:
        if finished.is_set():
            return
        elapsed = time.monotonic() - start
        percent = sum(service.percent(svc, job) for job in latest) / max(len(latest), 1)
        states = ", ".join(f"{j.job_id}: {j.status.value}" + (f" {j.progress}%" if j.progress is not None else "")
                           for j in latest)
        said = (int(percent), states)
        if sent and sent[-1] == said and not keep_alive:
            return
        sent[:] = [said]
        last_sent[0] = time.monotonic()
        with anyio.CancelScope(shield=True):  # a notification is sent whole or not at all
            await ctx.report_progress(round(percent, 1), 100, f"{elapsed:.0f}s elapsed; {states}")

    async def on_progress(update: service.Progress) -> None:
        latest[:] = update.jobs
        if not all(job.is_terminal for job in update.jobs) and time.monotonic() - start < limit:
            await report()

    async def keep_alive() -> None:
        await report()  # where the jobs are at the start
        while not finished.is_set():
            await anyio.sleep(max(last_sent[0] + PROGRESS_EVERY_S - time.monotonic(), 0.0))
            if time.monotonic() - last_sent[0] >= PROGRESS_EVERY_S:
                await report(keep_alive=True)

    async with anyio.create_task_group() as group:
        group.start_soon(keep_alive)
        try:
            waited = await service.wait(svc, jobs, timeout=limit, on_progress=on_progress)
        finally:
            finished.set()
            group.cancel_scope.cancel()
    return waited


# --- paid tools --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoQuestion:
    """The confirmation was not asked: below the threshold, not configured, or the client cannot ask."""

    note: str | None = None


class ConfirmSpend(BaseModel):
    """What the user answers when a job costs more than LEGNEXT_CONFIRM_ABOVE_POINTS."""

    confirm: bool = Field(description="Submit the job and spend the points")


def confirmation(settings: Settings, quoted: Quote, *, can_ask: bool) -> NoQuestion | Elicit[ConfirmSpend]:
    """Ask the user when the price is above LEGNEXT_CONFIRM_ABOVE_POINTS (or unknown) and the client can ask.

    A client without elicitation is not asked and not pretended to have answered: the job goes ahead with a
    note in its result, or, with LEGNEXT_CONFIRM_REQUIRED, is refused.

    Raises:
        NotConfirmedError: confirmation is required and the client cannot ask.
    """
    estimate = quoted.prepared.estimate
    return ask_to_spend(settings, estimate.amount, estimate.unit, str(estimate),
                        f"this {quoted.prepared.task_type} job", can_ask=can_ask)


def ask_to_spend(settings: Settings, amount: int | None, unit: str, said: str, what: str, *,
                 can_ask: bool) -> NoQuestion | Elicit[ConfirmSpend]:
    """The one confirmation rule, for one job or a batch (``what``: "this diffusion job", "these 5 jobs").

    Raises:
        NotConfirmedError: confirmation is required and the client cannot ask.
    """
    limit = settings.confirm_above_points
    if limit is None or (amount is not None and amount <= limit):
        return NoQuestion()
    price = f"{amount} {unit}" if amount is not None else "an unknown price"
    verb = "costs" if what.startswith("this ") else "cost"
    if not can_ask:
        if settings.confirm_required:
            raise NotConfirmedError(f"Not submitted: {what} {verb} {price}, above LEGNEXT_CONFIRM_ABOVE_POINTS="
                                    f"{limit}, and this MCP client cannot ask the user to confirm "
                                    "(LEGNEXT_CONFIRM_REQUIRED is set).")
        return NoQuestion(f"Not confirmed: {what} {verb} {price}, above LEGNEXT_CONFIRM_ABOVE_POINTS={limit}, but "
                          "this MCP client cannot ask the user (no elicitation support), so the question was skipped.")
    return Elicit(f"Submit {what} for {said}? (asked because it is above {limit} "
                  f"{unit})", ConfirmSpend)


def can_elicit(ctx: Ctx) -> bool:
    """Whether the client can be asked: it says it can, and there is a way back to it (a legacy-era request on
    stateless HTTP, LEGNEXT_HTTP_STATELESS, has none: it is treated as a client that cannot ask)."""
    caps = ctx.client_capabilities
    if caps is None or caps.elicitation is None:
        return False
    return not (services(ctx).settings.http_stateless and ctx.protocol_version in HANDSHAKE_PROTOCOL_VERSIONS)


async def priced(ctx: Ctx, call: a.ToolArgs) -> Quote:
    """Every check before spending: the arguments as an operation, its parent, the dialect's rules, the price
    and the budget. Sends nothing (a parent unknown to the ledger costs one free read)."""
    assert isinstance(call, a.JobArgs)
    try:
        return await quote(services(ctx), call.operation())
    except ValidationError as exc:
        raise ToolError(f"{describe(exc)}. Nothing was sent.") from None
    except LegnextError as exc:
        raise tool_error(exc) from None


async def approve(ctx: Ctx, quoted: Annotated[Quote, Resolve(priced)]) -> NoQuestion | Elicit[ConfirmSpend]:
    try:
        return confirmation(services(ctx).settings, quoted, can_ask=can_elicit(ctx))
    except LegnextError as exc:
        raise tool_error(exc) from None


async def run_job(ctx: Ctx, call: a.ToolArgs, quoted: Annotated[Quote, Resolve(priced)],
                  approval: Annotated[ElicitationResult[ConfirmSpend], Resolve(approve)]) -> CallToolResult:
    """Send a checked, priced, approved job once, record it, wait if asked, and answer."""
    assert isinstance(call, a.JobArgs)
    svc = services(ctx)
    estimate = quoted.prepared.estimate
    notes = list(quoted.notes)
    answer = approval.data if isinstance(approval, AcceptedElicitation) else None
    if answer is None or (isinstance(answer, ConfirmSpend) and not answer.confirm):
        raise ToolError(f"Not submitted: the user did not confirm spending {estimate.amount} {estimate.unit}. "
                        "Nothing was sent.")
    if isinstance(answer, NoQuestion) and answer.note:
        notes.append(answer.note)
    elif isinstance(answer, ConfirmSpend):
        notes.append(f"Confirmed by the user ({estimate.amount} {estimate.unit}).")
    try:
        job = await service.submit(svc, quoted)
    except LegnextError as exc:
        raise tool_error(exc) from None
    try:  # the job exists: whatever happens now, the answer names it
        if call.should_wait():
            waited = await wait_with_progress(ctx, [job], call.wait_limit())
            if waited.errors:  # reading it failed even after retries
                problem = next(iter(waited.errors.values()))
                raise ToolError(f"{problem.message} Job {job.job_id} was submitted and keeps running; call "
                                f"wait_for_job(job_ids=['{job.job_id}']) later.")
            job = waited.jobs[0]
            notes += waited.notes
        return await respond(ctx, job, include_preview=call.wants_preview(), estimated=estimate.amount, notes=notes)
    except ToolError:
        raise
    except Exception as exc:
        raise after_sending([job.job_id], "reading its result", exc) from None


# --- free tools ----------------------------------------------------------------------------------------------


async def owned(svc: Services, job_ids: list[str]) -> None:
    """On a shared server, refuse an id the caller does not own, before anything is asked of the API (someone
    else's job and an unknown one get the same answer).

    Raises:
        NotFoundError: the first id the caller does not own.
    """
    who = caller()
    if not who.scoped:
        return
    for job_id in job_ids:
        if await svc.ledger.get(svc.dialect.name, job_id, user=who.user) is None:
            raise unknown_job(job_id)


async def _read(ctx: Ctx, job_id: str, notes: list[str]) -> Job:
    svc = services(ctx)
    try:
        await owned(svc, [check_job_id(job_id)])
        job = await svc.dialect.get(check_job_id(job_id))
    except LegnextError as exc:
        raise tool_error(exc) from None
    await service.record(svc, job, notes)
    return job


async def get_job(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    assert isinstance(call, a.GetJobArgs)
    notes: list[str] = []
    return await respond(ctx, await _read(ctx, call.job_id, notes), notes=notes)


async def wait_for_job(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    assert isinstance(call, a.WaitArgs)
    svc = services(ctx)
    try:
        ids = list(dict.fromkeys(check_job_id(job_id) for job_id in call.job_ids))
        await owned(svc, ids)
    except LegnextError as exc:
        raise tool_error(exc) from None
    # A job another call waits on is read by the poller already: its latest snapshot will do.
    watched = {job_id: job for job_id in ids if (job := svc.poller.snapshot(job_id)) is not None}
    unread = [job_id for job_id in ids if job_id not in watched]
    fresh = dict(zip(unread, await svc.dialect.get_many(unread), strict=True)) if unread else {}
    found = [watched.get(job_id) or fresh[job_id] for job_id in ids]
    failures = [item for item in found if isinstance(item, LegnextError)]
    if failures:
        raise tool_error(failures[0])
    jobs = [item for item in found if isinstance(item, Job)]
    notes: list[str] = []
    try:
        for job in jobs:
            await service.record(svc, job, notes)
        waited = await wait_with_progress(ctx, jobs, call.timeout_s)
        if waited.errors and len(waited.errors) == len(jobs):
            problem = next(iter(waited.errors.values()))
            raise ToolError(problem.message + " The job keeps running; call wait_for_job later.")
        results = [await describe_job(ctx, job, notes=notes + waited.notes) for job in waited.jobs]
        batch = JobBatch(jobs=results, all_done=all(r.done for r in results))
        content: list[ContentBlock] = []
        for job, result in zip(waited.jobs, results, strict=True):
            content += result_content(svc, result) + (await preview(svc, job) if call.wants_preview() else [])
    except ToolError:
        raise
    except Exception as exc:
        raise after_sending(ids, "wait_for_job", exc) from None
    return CallToolResult(content=content, structured_content=batch.structured(),
                          is_error=any(r.status == "failed" for r in results))


async def save_images(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    assert isinstance(call, a.SaveArgs)
    svc = services(ctx)
    try:
        who = caller()
        base = user_folder(svc.settings.output_dir, who.user) if who.scoped else svc.settings.output_dir
        target = check_folder(call.folder, base)  # a bad folder costs no request
        check_job_id(call.job_id)
        entry = await svc.ledger.get(svc.dialect.name, call.job_id, user=who.reads)
        if entry is None and who.scoped:
            raise unknown_job(call.job_id)
    except LegnextError as exc:
        raise tool_error(exc) from None
    notes: list[str] = []
    job = entry.job if entry is not None and entry.job.is_terminal else await _read(ctx, call.job_id, notes)
    try:
        saved = await svc.outputs.save(job, target, prompt=entry.prompt if entry else None,
                                       parent_job_id=entry.parent_job_id if entry else None,
                                       refresh=lambda: _read(ctx, call.job_id, notes))
    except LocalValidationError as exc:
        raise ToolError(exc.message.replace("Wait for it first.", f"Call wait_for_job(job_ids=['{job.job_id}']) "
                                            "first.")) from None
    except LegnextError as exc:
        raise tool_error(exc) from None
    files = [str(p) for p in saved.files] + [str(saved.sidecar)]
    result = await describe_job(ctx, job, saved_files=files, notes=notes)
    return CallToolResult(content=[TextContent(type="text", text=result_text(result))],
                          structured_content=result.structured())


async def list_jobs(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    assert isinstance(call, a.ListArgs)
    svc = services(ctx)
    name = svc.dialect.name
    limit = call.limit or 20
    who = caller()
    fresh = await refresh_unfinished(svc, call.task_type, who.reads)  # so one that ended long ago is not pending
    try:
        entries = await svc.ledger.recent(name, status=call.status, task_type=call.task_type, limit=limit,
                                          user=who.reads)
        unresolved = [] if call.status else await svc.ledger.intents(name, task_type=call.task_type, limit=limit,
                                                                     user=who.reads)
    except LegnextError as exc:
        raise tool_error(exc) from None
    running: list[str] = []
    if call.status is None and call.task_type is None:
        try:
            active = await svc.dialect.active_jobs()
        except LegnextError as exc:
            log.info("active jobs unavailable: %s", exc.code)
            active = None
        running = [job.job_id for job in active or []][:50]
        if who.scoped and not who.own_key:  # a shared key's running jobs are everyone's: show only the caller's
            running = [job_id for job_id in running if await svc.ledger.get(name, job_id, user=who.user)]
    summary = JobList(count=len(entries), jobs=[
        JobSummary(job_id=e.job.job_id, task_type=e.job.task_type, status=e.job.status.value, prompt=e.prompt,
                   parent_job_id=e.parent_job_id, recorded_at=iso_epoch(e.recorded_at),
                   status_as_of=None if e.job.is_terminal or e.job.job_id in fresh else iso_epoch(e.updated_at))
        for e in entries],
        uncertain=[UnresolvedSummary(task_type=u.task_type, state="in flight" if u.state == "sending" else "uncertain",
                                     prompt=u.prompt, reason=u.reason or None, estimated_points=u.points,
                                     recorded_at=iso_epoch(u.created_at)) for u in unresolved],
        running_on_account=running)
    lines = [f"{s.job_id}  {s.task_type:<17} {s.status:<10} {printable(s.prompt or '')[:60]}"
             + (f"  (status as of {s.status_as_of})" if s.status_as_of else "") for s in summary.jobs]
    lines += [f"{u.state} ({u.recorded_at}): {u.task_type} {printable(u.prompt or '')[:60]!r}: "
              + ("being sent now" if u.state == "in flight" else "may have been created without an id reaching us; "
                 "check the account's job history before submitting it again") for u in summary.uncertain]
    others = [jid for jid in running if jid not in {s.job_id for s in summary.jobs}]
    if others:
        lines.append(f"Also running on the account (not sent from here): {', '.join(others[:10])}")
    text = "\n".join(lines) if lines else "No jobs recorded yet."
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=summary.structured())


async def refresh_unfinished(svc: Services, task_type: str | None, user: str | None) -> set[str]:
    """Read the most recent unfinished jobs (of ``user``, when the caller sees only theirs) again (at most
    LIST_REFRESH_READS, one batch) and record what they are now; the ids read. A job the poller watches is current
    already; a failed read leaves the job as recorded (the listing then says when that was)."""
    name = svc.dialect.name
    try:
        unfinished = [entry for status in ("pending", "staged", "processing")
                      for entry in await svc.ledger.recent(name, status=status, task_type=task_type,
                                                           limit=policy.LIST_REFRESH_READS, user=user)]
    except LegnextError:
        return set()
    unfinished.sort(key=lambda entry: entry.recorded_at, reverse=True)
    ids = [e.job.job_id for e in unfinished if svc.poller.snapshot(e.job.job_id) is None]
    ids = ids[:policy.LIST_REFRESH_READS]
    if not ids:
        return set()
    try:
        found = await svc.dialect.get_many(ids)
    except LegnextError as exc:
        log.info("could not read unfinished jobs for list_jobs: %s", exc.code)
        return set()
    read = [job for job in found if isinstance(job, Job)]
    notes: list[str] = []
    for job in read:
        await service.record(svc, job, notes)
    return {job.job_id for job in read}


def iso_epoch(epoch: float) -> str:
    return iso(datetime.fromtimestamp(epoch, UTC)) or ""


async def get_balance(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    svc = services(ctx)
    try:
        account = await svc.dialect.account()
    except LegnextError as exc:
        raise tool_error(exc) from None
    result = BalanceResult(available=account.available or 0, unit=account.unit, usd=account.usd, parts=account.parts,
                           explanation=account.explanation, plan=account.plan,
                           max_concurrent_jobs=account.max_concurrent, low_balance_alert=account.low_balance)
    parts = " + ".join(f"{value} {name}" for name, value in account.parts.items())
    # What one image job costs here, priced by the dialect's own rule (the same one a job is priced by).
    image = svc.dialect.prepare(Imagine(prompt="a picture"), None, None).estimate.amount
    jobs = f"; about {result.available // image} image jobs at {image} {account.unit}. " if image else ". "
    text = (f"Balance: {result.available} {account.unit}" + (f" (${result.usd:.2f})" if result.usd is not None else "")
            + (f" = {parts}" if parts else "") + jobs + account.explanation
            + (f" Plan: {account.plan}." if account.plan else ""))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.structured())


async def estimate_cost(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    assert isinstance(call, a.EstimateArgs)
    svc = services(ctx)
    raw = call.arguments
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, RecursionError):
            raise ToolError("arguments must be a JSON object of the tool's arguments, e.g. "
                            "{\"job_id\": \"...\", \"image_no\": 0}.") from None
    if not isinstance(raw, dict):
        raise ToolError("arguments must be a JSON object of the tool's arguments.")
    if call.tool == "imagine_batch":
        return await _estimate_batch(ctx, raw)
    spec = paid_tool(call.tool, svc.dialect)
    checked = validate_arguments(spec, raw)
    assert isinstance(checked, a.JobArgs)
    try:
        quoted = await quote(svc, checked.operation())
        question = confirmation(svc.settings, quoted, can_ask=True)
    except ValidationError as exc:
        raise ToolError(f"{spec.name}: {describe(exc)}. Nothing was sent.") from None
    except LegnextError as exc:
        raise tool_error(exc) from None
    price = quoted.prepared.estimate
    result = CostEstimate(tool=spec.name, points=price.amount, unit=price.unit, usd=price.usd, basis=price.basis,
                          would_ask_user=isinstance(question, Elicit), notes=list(quoted.notes))
    text = f"{spec.name} would cost {price}. All local checks pass; nothing was sent."
    if result.would_ask_user:
        text += " It is above LEGNEXT_CONFIRM_ABOVE_POINTS, so the user will be asked to confirm."
    return CallToolResult(content=[TextContent(type="text", text=" ".join([text, *result.notes]))],
                          structured_content=result.structured())


async def _estimate_batch(ctx: Ctx, raw: dict[str, Any]) -> CallToolResult:
    svc = services(ctx)
    checked = validate_arguments(BY_NAME["imagine_batch"], raw)
    assert isinstance(checked, a.BatchArgs)
    try:
        batch = await quote_batch(svc, checked.operations())
        question = ask_to_spend(svc.settings, batch.total, batch.unit, batch_words(batch),
                                f"these {len(batch.quotes)} imagine jobs", can_ask=True)
    except ValidationError as exc:
        raise ToolError(f"imagine_batch: {describe(exc)}. Nothing was sent.") from None
    except LegnextError as exc:
        raise tool_error(exc) from None
    basis = f"the sum of {len(batch.quotes)} imagine jobs: " + ", ".join(
        str(q.prepared.estimate.amount) for q in batch.quotes)
    result = CostEstimate(tool="imagine_batch", points=batch.total, unit=batch.unit, basis=basis,
                          would_ask_user=isinstance(question, Elicit), notes=list(batch.notes))
    text = f"imagine_batch would cost {batch_words(batch)} ({basis}). All local checks pass; nothing was sent."
    if result.would_ask_user:
        text += " It is above LEGNEXT_CONFIRM_ABOVE_POINTS, so the user will be asked to confirm once."
    return CallToolResult(content=[TextContent(type="text", text=" ".join([text, *result.notes]))],
                          structured_content=result.structured())


# --- a batch of prompts ------------------------------------------------------------------------------------


async def priced_batch(ctx: Ctx, call: a.ToolArgs) -> BatchQuote:
    """Every prompt checked and priced as imagine would be, then the budget against their sum. Sends nothing."""
    assert isinstance(call, a.BatchArgs)
    try:
        return await quote_batch(services(ctx), call.operations())
    except ValidationError as exc:
        raise ToolError(f"{describe(exc)}. Nothing was sent.") from None
    except LegnextError as exc:
        raise tool_error(exc) from None


def batch_words(batch: BatchQuote) -> str:
    return f"{batch.total} {batch.unit}" if batch.total is not None else "an unknown price"


async def approve_batch(ctx: Ctx, batch: Annotated[BatchQuote, Resolve(priced_batch)]
                        ) -> NoQuestion | Elicit[ConfirmSpend]:
    """One question for the whole batch, at its one price."""
    try:
        return ask_to_spend(services(ctx).settings, batch.total, batch.unit, batch_words(batch),
                            f"these {len(batch.quotes)} imagine jobs", can_ask=can_elicit(ctx))
    except LegnextError as exc:
        raise tool_error(exc) from None


async def imagine_batch(ctx: Ctx, call: a.ToolArgs, batch: Annotated[BatchQuote, Resolve(priced_batch)],
                        approval: Annotated[ElicitationResult[ConfirmSpend], Resolve(approve_batch)]
                        ) -> CallToolResult:
    """Send a checked, priced, approved batch: one reservation, each job once, every outcome named."""
    assert isinstance(call, a.BatchArgs)
    svc = services(ctx)
    notes = list(batch.notes)
    answer = approval.data if isinstance(approval, AcceptedElicitation) else None
    if answer is None or (isinstance(answer, ConfirmSpend) and not answer.confirm):
        raise ToolError(f"Not submitted: the user did not confirm spending {batch_words(batch)} on "
                        f"{len(batch.quotes)} jobs. Nothing was sent.")
    if isinstance(answer, NoQuestion) and answer.note:
        notes.append(answer.note)
    elif isinstance(answer, ConfirmSpend):
        notes.append(f"Confirmed by the user ({batch_words(batch)} for {len(batch.quotes)} jobs).")
    for quoted in batch.quotes:
        notes += [n for n in quoted.notes if not n.startswith(("Budget", "Your budget")) and n not in notes]
    try:
        sent = await service.submit_batch(svc, batch)
    except LegnextError as exc:
        raise tool_error(exc) from None
    items: list[BatchItem] = []
    for outcome, prompt in zip(sent, call.prompts, strict=True):
        error = outcome.error
        status = "submitted" if outcome.job is not None else (
            "uncertain" if isinstance(error, SubmissionUncertainError) else "failed")
        message = None
        if error is not None:
            message = error.message + _HINTS.get(error.code, "")
        items.append(BatchItem(prompt_no=outcome.index + 1, prompt=printable(prompt)[:200],
                               job_id=outcome.job.job_id if outcome.job else None, status=status, error=message))
    ids = [item.job_id for item in items if item.job_id]
    result = BatchSubmitted(jobs=items, job_ids=ids, submitted=len(ids), failed=len(items) - len(ids),
                            estimated_points=batch.total, unit=batch.unit, notes=notes)
    lines = [f"Batch of {len(items)} prompts ({batch_words(batch)} reserved at most): {len(ids)} submitted"
             + (f", {result.failed} not submitted" if result.failed else "") + "."]
    for item in items:
        head = f"{item.prompt_no}. {item.job_id or '-'} {item.status}"
        lines.append(f"{head}: {item.prompt[:60]!r}" + (f": {item.error}" if item.error else ""))
    if ids:
        lines.append(f"Next: wait_for_job(job_ids={ids!r}) for their images.")
    lines += notes
    return CallToolResult(content=[TextContent(type="text", text="\n".join(lines))],
                          structured_content=result.structured(), is_error=not ids)


# --- a picture from the chat --------------------------------------------------------------------------------


async def upload_picture(ctx: Ctx, call: a.ToolArgs) -> CallToolResult:
    """Keep a picture the client sent and name it as an image_url the job tools take (a path under the data
    folder, always an allowed input root)."""
    assert isinstance(call, a.UploadArgs)
    svc = services(ctx)
    text = call.data_base64.strip()
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        data = base64.b64decode(text, validate=True)
    except ValueError:
        raise ToolError("data_base64 is not base64 (A-Z, a-z, 0-9, +, /, = padding). Nothing was kept.") from None
    try:
        kept = await anyio.to_thread.run_sync(lambda: keep_upload(svc.settings, data, now=time.time()))
    except LegnextError as exc:
        raise tool_error(exc) from None
    except OSError as exc:
        raise ToolError(f"The picture could not be kept in the data folder ({exc.strerror or type(exc).__name__})."
                        ) from None
    result = UploadedPicture(image_url=kept.path.as_uri(), content_type=kept.content_type, bytes=kept.size,
                             expires_at=iso_epoch(kept.expires))
    text = (f"Kept the picture ({kept.content_type}, {kept.size} bytes) until {result.expires_at}: pass "
            f"image_url={result.image_url!r} to describe, retexture, remove_background, video_diffusion or "
            "enhance_upscale, or put it in blend's image_urls.")
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=result.structured())
