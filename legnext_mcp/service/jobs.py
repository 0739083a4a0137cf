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

import anyio

from legnext_mcp.core import capabilities
from legnext_mcp.core.errors import LedgerError, LegnextError, SubmissionUncertainError
from legnext_mcp.core.job import Job
from legnext_mcp.service.caller import caller
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


async def submit(svc: Services, quoted: Quote, *, user: str | None = None) -> Job:
    """Send ``quoted`` once and return the new job, recorded.

    Raises:
        BudgetExceededError / LedgerError: before sending (then nothing was sent, and the message says so).
        SubmissionUncertainError: sent, no answer: kept in the ledger as uncertain, never re-sent.
        LegnextError: the API refused it (nothing was made).
        UnrecordedJobError: made, but the ledger failed (the id is in the message).
    """
    prepared = quoted.prepared
    op = prepared.operation
    user = caller().user if user is None else user
    callback, token_hash = callback_for(svc.settings.public_url)
    try:
        intent = await svc.ledger.reserve(
            svc.dialect.name, task_type=prepared.task_type, prompt=op.text, parent_job_id=op.parent_id,
            request=prepared.body, points=prepared.estimate.amount, unit=prepared.estimate.unit,
            caps=caps(svc.settings), since=time.time() - DAY_S, user=user, callback_hash=token_hash)
    except LedgerError as exc:
        raise LedgerError(f"{exc.message} Nothing was sent: a job is sent only once its intent is recorded.") from None
    try:
        job = await svc.dialect.submit(prepared, callback=callback)
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


def callback_for(public_url: str | None) -> tuple[str | None, str | None]:
    """A job's callback URL, carrying an unguessable capability good until the job ends, and the capability's
    hash (what the ledger keeps); (None, None) when the server has no public address."""
    if public_url is None:
        return None, None
    token, hashed = capabilities.mint()
    return f"{public_url}/callbacks/{token}", hashed


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
        await svc.ledger.record(job, user=caller().user)  # a row already there keeps its owner
    except LedgerError as exc:
        log.error("could not record a snapshot of job %s: %s", job.job_id, exc.message)
        _note(notes, job.job_id, exc.message)
    await svc.poller.publish([job])  # a read outside the poller (get_job, a wait's first look) counts too


def _note(notes: list[str], job_id: str, reason: str) -> None:
    note = f"Job {job_id}: its latest state could not be written to the local history ({reason})."
    if note not in notes:
        notes.append(note)


async def wait(svc: Services, jobs: list[Job], *, timeout: float, on_progress: OnProgress | None = None) -> Waited:
    """Wait for jobs until all are done or ``timeout`` real seconds pass: they are registered with the process's
    poller (``service.poller``), which reads each on its own schedule and records what changed; this wait is
    woken with each new snapshot. Cancelling the caller stops at once (the poller forgets jobs nobody waits on).
    """
    prompts = {job.job_id: await _prompt(svc, job) for job in jobs}
    clock = svc.dialect.clock
    start = clock.monotonic()
    with svc.poller.watching(jobs, prompts) as watch:
        with anyio.move_on_after(timeout):
            while True:
                latest, errors = svc.poller.latest(watch)
                if all(job.is_terminal or job.job_id in errors for job in latest):
                    break
                await watch.changed.wait()
                watch.changed = anyio.Event()
                if on_progress is not None:
                    await on_progress(Progress(elapsed=clock.monotonic() - start, jobs=svc.poller.latest(watch)[0]))
        latest, errors = svc.poller.latest(watch)
    notes: list[str] = []
    for job in latest:
        if job.job_id in svc.unrecorded:
            _note(notes, job.job_id, svc.unrecorded[job.job_id])
    return Waited(jobs=latest, errors=errors, notes=notes)


def percent(svc: Services, job: Job) -> float:
    """How far along a job is, never going back across calls (``Poller.percent``)."""
    return svc.poller.percent(job)


async def _prompt(svc: Services, job: Job) -> str | None:
    try:
        entry = await svc.ledger.get(svc.dialect.name, job.job_id, user=caller().reads)
    except LedgerError:
        entry = None
    return (entry.prompt if entry else None) or job.prompt
