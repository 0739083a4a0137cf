"""Sending a quoted job once and recording it, and waiting for jobs.

The order that keeps money safe (DESIGN.md section 5): the intent and its reserved price are written
first (atomically with the budget check); only then is the request sent, exactly once; the answer
replaces the intent with the job; a refusal releases it; a lost answer marks it uncertain. Recording
after the request is shielded from cancellation, so a host that gives up (or a SIGTERM) mid-call still
leaves the job, or the fact that it may exist, in the ledger.

After a job exists nothing may hide its id: a ledger that fails while a wait records what it saw is a note
on the result, not an error that loses the job.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from legnext_mcp.core.errors import LedgerError, LegnextError, SubmissionUncertainError
from legnext_mcp.core.job import Job
from legnext_mcp.core.waiting import poll_jobs
from legnext_mcp.dialects.base import Dialect
from legnext_mcp.ledger import NOBODY
from legnext_mcp.service.quote import DAY_S, Quote, caps
from legnext_mcp.service.runtime import Services

log = logging.getLogger("legnext_mcp.service")


class UnrecordedJobError(LegnextError):
    """The API made (and charges for) a job, but the ledger could not record it. ``job`` is that job."""

    code = "unrecorded"

    def __init__(self, job: Job, reason: str) -> None:
        super().__init__(f"Job {job.job_id} was submitted ({job.task_type}) but could not be written to the local "
                         f"history ({reason}); keep this id: {job.job_id}.", job_id=job.job_id)
        self.job = job


async def submit(svc: Services, quoted: Quote, *, user: str = NOBODY) -> Job:
    """Send ``quoted`` once and return the new job, recorded.

    Raises:
        BudgetExceededError / LedgerError: before sending (then nothing was sent, and the message says so).
        SubmissionUncertainError: sent, no answer: kept in the ledger as uncertain, never re-sent.
        LegnextError: the API refused it (nothing was made).
        UnrecordedJobError: made, but the ledger failed (the id is in the message).
    """
    prepared = quoted.prepared
    op = prepared.operation
    try:
        intent = await svc.ledger.reserve(
            svc.dialect.name, task_type=prepared.task_type, prompt=op.text, parent_job_id=op.parent_id,
            request=prepared.body, points=prepared.estimate.amount, unit=prepared.estimate.unit,
            caps=caps(svc.settings), since=time.time() - DAY_S, user=user)
    except LedgerError as exc:
        raise LedgerError(f"{exc.message} Nothing was sent: a job is sent only once its intent is recorded.") from None
    try:
        job = await svc.dialect.submit(prepared)
    except SubmissionUncertainError as exc:
        with anyio.CancelScope(shield=True):
            await svc.ledger.uncertain(intent, exc.message)
        raise
    except LegnextError:
        with anyio.CancelScope(shield=True):
            await svc.ledger.release(intent)
        raise
    except BaseException:  # cancelled (host gave up, SIGTERM) while the request may have been out
        with anyio.CancelScope(shield=True):
            await svc.ledger.uncertain(intent, "interrupted while the request was being sent; the job may exist")
        raise
    with anyio.CancelScope(shield=True):
        try:
            await svc.ledger.submitted(intent, job, prompt=op.text, parent_job_id=op.parent_id, request=prepared.body,
                                       estimate=prepared.estimate.amount)
        except LedgerError as exc:
            log.error("could not record job %s in the ledger: %s", job.job_id, exc.message)
            raise UnrecordedJobError(job, exc.message) from None
    log.info("recorded %s job %s", prepared.task_type, job.job_id)
    return job


@dataclass
class Progress:
    """What a wait reports after every look: elapsed real seconds and each job's latest snapshot."""

    elapsed: float
    jobs: list[Job]


OnProgress = Callable[[Progress], Awaitable[None]]


@dataclass
class Waited:
    """How a wait ended: the latest snapshot of each job (in the order asked), the jobs that could not be read
    (by id), and what the caller should know (a snapshot the ledger could not record)."""

    jobs: list[Job]
    errors: dict[str, LegnextError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def record(svc: Services, job: Job, notes: list[str]) -> None:
    """Record a snapshot; a ledger failure becomes a note (the job is what matters, and the API still has it)."""
    try:
        await svc.ledger.record(job)
    except LedgerError as exc:
        log.error("could not record a snapshot of job %s: %s", job.job_id, exc.message)
        note = f"Job {job.job_id}: its latest state could not be written to the local history ({exc.message})."
        if note not in notes:
            notes.append(note)


async def wait(svc: Services, jobs: list[Job], *, timeout: float, on_progress: OnProgress | None = None) -> Waited:
    """Look at unfinished jobs together until all are done or ``timeout`` real seconds pass (the one poll loop,
    ``core.waiting``: one read per round for all of them where the API allows). Every snapshot goes to the
    ledger. Cancelling the caller stops at once.
    """
    dialect = svc.dialect
    prompts = {job.job_id: await _prompt(svc, job) for job in jobs}
    notes: list[str] = []
    start = dialect.clock.monotonic()
    seen = {job.job_id: job for job in jobs}

    async def on_round(latest: list[Job]) -> None:
        for job in latest:
            if job is not seen[job.job_id]:  # read in this round
                seen[job.job_id] = job
                await record(svc, job, notes)
        if on_progress is not None:
            await on_progress(Progress(elapsed=dialect.clock.monotonic() - start, jobs=latest))

    latest, errors = await poll_jobs(jobs, read=dialect.get_many, plan=lambda job: dialect.poll_plan(
        job, prompts[job.job_id]), clock=dialect.clock, timeout=timeout, created_at=lambda job: job.created_at,
        on_round=on_round)
    return Waited(jobs=latest, errors=errors, notes=notes)


def percent(dialect: Dialect[Any], job: Job, elapsed: float) -> float:
    """How far along a job is: 100 when it ended, the API's own figure when it reports one (at most 99),
    otherwise the real seconds waited against the end of its documented duration (at most 95)."""
    if job.is_terminal:
        return 100.0
    if job.progress is not None:
        return float(min(max(job.progress, 0), 99))
    typical = dialect.poll_plan(job, None).late_after_s
    return min(95.0, 100.0 * dialect.clock.api_seconds(elapsed) / typical)


async def _prompt(svc: Services, job: Job) -> str | None:
    try:
        entry = await svc.ledger.get(svc.dialect.name, job.job_id)
    except LedgerError:
        entry = None
    return (entry.prompt if entry else None) or job.prompt
